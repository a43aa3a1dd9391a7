using System.Diagnostics;
using HdrHistogram;

namespace FileAio.Faster.Bench;

/// <summary>Latencies in nanoseconds (1 ns to 100 s, 3 significant digits), one histogram per thread that records,
/// merged at the end; recording is an array increment, with no allocation.</summary>
internal sealed class LatencyStats
{
    private const long HighestNanoseconds = 100_000_000_000;
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public LongHistogram Histogram { get; } = new(HighestNanoseconds, 3);

    public void Record(long startTicks, long endTicks) =>
        Histogram.RecordValue(Math.Clamp((long)((endTicks - startTicks) * s_nanosecondsPerTick), 1, HighestNanoseconds));

    public static LatencyStats Merge(IEnumerable<LatencyStats> parts)
    {
        var all = new LatencyStats();
        foreach (LatencyStats part in parts)
        {
            all.Histogram.Add(part.Histogram);
        }
        return all;
    }

    /// <summary>The percentile in microseconds (0 when nothing was recorded).</summary>
    public double Microseconds(double percentile) =>
        Histogram.TotalCount == 0 ? 0 : Histogram.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxMicroseconds => Histogram.TotalCount == 0 ? 0 : Histogram.GetMaxValue() / 1000.0;
}
