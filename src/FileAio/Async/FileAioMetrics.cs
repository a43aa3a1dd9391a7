using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FileAio.Async;

/// <summary>
/// The meter "FileAio" (System.Diagnostics.Metrics): what async file operations do. No listener code ever runs on an
/// engine thread: the counters are observable instruments over numbers the engine loops keep (plain fields written by
/// each loop, summed when a listener asks), and the latency is recorded by the caller that reads the result, where
/// the continuation runs. Reads served from the page cache on the calling thread are counted in a striped counter.
/// Nothing is allocated per operation.
/// </summary>
internal static class FileAioMetrics
{
    public static readonly Meter Meter = new("FileAio", "1.0");

    private static readonly Lock s_loopsLock = new();
    private static EngineLoop[] s_loops = [];

    private static readonly StripedCounter s_cachedReads = new();
    private static readonly StripedCounter s_cachedBytes = new();

    public static readonly ObservableCounter<long> Operations = Meter.CreateObservableCounter("fileaio.operations",
        () => Sum(static l => l.CompletedCount) + s_cachedReads.Total, "{operation}",
        "Operations completed (reads, writes, flushes).");

    public static readonly ObservableCounter<long> Bytes = Meter.CreateObservableCounter("fileaio.bytes",
        () => Sum(static l => l.BytesTransferred) + s_cachedBytes.Total, "By", "Bytes read or written.");

    public static readonly ObservableCounter<long> Errors = Meter.CreateObservableCounter("fileaio.errors",
        () => Sum(static l => l.ErrorCount), "{operation}", "Operations that failed or were cancelled.");

    public static readonly ObservableUpDownCounter<long> InFlight = Meter.CreateObservableUpDownCounter("fileaio.in_flight",
        () => Sum(static l => l.HeldCount), "{operation}", "Operations the engine threads hold (in the engine, or waiting for room).");

    public static readonly ObservableCounter<long> CachedReads = Meter.CreateObservableCounter("fileaio.cached_reads",
        () => s_cachedReads.Total, "{operation}",
        "Reads served whole from the page cache on the calling thread, without the engine (also in fileaio.operations).");

    /// <summary>Per loop (tags <c>fileaio.loop</c>, the thread's name, and <c>fileaio.loop.id</c>, a number unique in the
    /// process, since every host names its threads from 0): the longest time, in microseconds, that the loop
    /// went without looking at its queues and its engine since the last observation — what a blocking or long piece of
    /// code run on the loop (<see cref="AioLoop"/>) costs everything else queued there. Each observation starts a new
    /// interval, so one listener should observe it.</summary>
    public static readonly ObservableGauge<double> LoopLag = Meter.CreateObservableGauge("fileaio.loop.lag", ObserveLag, "us",
        "Longest time each engine loop went without looking at its queues and engine, since the last observation.");

    public static readonly Histogram<double> Latency =
        Meter.CreateHistogram<double>("fileaio.latency", "us", "Time from start to completion of an operation, as its caller sees it.");

    internal static void Register(EngineLoop loop)
    {
        lock (s_loopsLock)
        {
            s_loops = [.. s_loops, loop];
        }
    }

    internal static void Unregister(EngineLoop loop)
    {
        lock (s_loopsLock)
        {
            s_loops = Array.FindAll(s_loops, l => !ReferenceEquals(l, loop));
        }
    }

    private static long Sum(Func<EngineLoop, long> count)
    {
        long total = 0;
        foreach (EngineLoop loop in Volatile.Read(ref s_loops))
        {
            total += count(loop);
        }
        return total;
    }

    private static IEnumerable<Measurement<double>> ObserveLag()
    {
        EngineLoop[] loops = Volatile.Read(ref s_loops);
        var lags = new Measurement<double>[loops.Length]; // once per observation, never per operation
        for (int i = 0; i < loops.Length; i++)
        {
            double us = loops[i].TakeMaxBusyTicks() * 1_000_000.0 / Stopwatch.Frequency;
            // An array, not the params-span form: that one compiles to an inline array the architecture test cannot place.
            KeyValuePair<string, object?>[] tags = [new("fileaio.loop", loops[i].Name), new("fileaio.loop.id", loops[i].Id)];
            lags[i] = new Measurement<double>(us, tags);
        }
        return lags;
    }

    /// <summary>An operation starts: its start timestamp, or 0 when no one listens to the latency.</summary>
    public static long Started() => Latency.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Its caller read the result of an operation started at <paramref name="startTimestamp"/>.</summary>
    public static void RecordLatency(long startTimestamp)
    {
        if (startTimestamp != 0 && Latency.Enabled)
        {
            Latency.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);
        }
    }

    /// <summary>A read served whole from the page cache on the calling thread.</summary>
    public static void CachedRead(long startTimestamp, int bytes)
    {
        s_cachedReads.Add(1);
        s_cachedBytes.Add(bytes);
        RecordLatency(startTimestamp);
    }

    /// <summary>A counter many threads add to without fighting over one cache line: each adds to the cell of its
    /// thread id, and a reader sums the cells.</summary>
    private sealed class StripedCounter
    {
        private const int Cells = 16;
        private const int Stride = 8; // 64 bytes between cells: one cache line each
        private readonly long[] _cells = new long[Cells * Stride];

        public void Add(long value) =>
            Interlocked.Add(ref _cells[(Environment.CurrentManagedThreadId & (Cells - 1)) * Stride], value);

        public long Total
        {
            get
            {
                long total = 0;
                for (int i = 0; i < Cells; i++)
                {
                    total += Volatile.Read(ref _cells[i * Stride]);
                }
                return total;
            }
        }
    }
}
