using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FileAio.Async;

/// <summary>
/// The meter "FileAio" (System.Diagnostics.Metrics): what <see cref="AioFile"/> operations do. Instruments without
/// listeners cost one branch each; nothing is allocated per operation.
/// </summary>
internal static class FileAioMetrics
{
    public static readonly Meter Meter = new("FileAio", "1.0");

    public static readonly Counter<long> Operations =
        Meter.CreateCounter<long>("fileaio.operations", "{operation}", "Operations completed (reads, writes, flushes).");

    public static readonly Counter<long> Bytes =
        Meter.CreateCounter<long>("fileaio.bytes", "By", "Bytes read or written.");

    public static readonly Counter<long> Errors =
        Meter.CreateCounter<long>("fileaio.errors", "{operation}", "Operations that failed or were cancelled.");

    public static readonly UpDownCounter<long> InFlight =
        Meter.CreateUpDownCounter<long>("fileaio.in_flight", "{operation}", "Operations started and not yet completed.");

    public static readonly Histogram<double> Latency =
        Meter.CreateHistogram<double>("fileaio.latency", "us", "Time from start to completion of an operation.");

    public static readonly Counter<long> CachedReads =
        Meter.CreateCounter<long>("fileaio.cached_reads", "{operation}",
            "Reads served whole from the page cache on the calling thread, without the engine (also in fileaio.operations).");

    /// <summary>An operation starts: returns its start timestamp (0 when no one listens to the latency).</summary>
    public static long Started()
    {
        if (InFlight.Enabled)
        {
            InFlight.Add(1);
        }
        return Latency.Enabled ? Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>An operation counted by <see cref="Started"/> was refused before it ran (its call threw).</summary>
    public static void Refused()
    {
        if (InFlight.Enabled)
        {
            InFlight.Add(-1);
        }
    }

    /// <summary>A read served whole from the page cache on the calling thread has finished.</summary>
    public static void FinishedFromCache(long startTimestamp, int bytes)
    {
        if (CachedReads.Enabled)
        {
            CachedReads.Add(1);
        }
        Finished(startTimestamp, bytes);
    }

    /// <summary>An operation has finished with <paramref name="result"/> (bytes, or a negative errno).</summary>
    public static void Finished(long startTimestamp, long result)
    {
        if (InFlight.Enabled)
        {
            InFlight.Add(-1);
        }
        if (result < 0)
        {
            if (Errors.Enabled)
            {
                Errors.Add(1);
            }
        }
        else if (Bytes.Enabled)
        {
            Bytes.Add(result);
        }
        if (Operations.Enabled)
        {
            Operations.Add(1);
        }
        if (startTimestamp != 0 && Latency.Enabled)
        {
            Latency.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);
        }
    }
}
