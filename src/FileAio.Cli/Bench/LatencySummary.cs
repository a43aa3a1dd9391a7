using HdrHistogram;

namespace FileAio.Cli.Bench;

/// <summary>Latency percentiles of one case, in microseconds.</summary>
internal readonly record struct LatencySummary(double P50, double P99, double P999, double Max)
{
    /// <summary>Reads the percentiles from a histogram of nanoseconds (all zero when it is empty).</summary>
    public static LatencySummary From(HistogramBase nanoseconds)
    {
        if (nanoseconds.TotalCount == 0)
        {
            return default;
        }
        return new LatencySummary(
            nanoseconds.GetValueAtPercentile(50) / 1000.0,
            nanoseconds.GetValueAtPercentile(99) / 1000.0,
            nanoseconds.GetValueAtPercentile(99.9) / 1000.0,
            nanoseconds.GetMaxValue() / 1000.0);
    }
}
