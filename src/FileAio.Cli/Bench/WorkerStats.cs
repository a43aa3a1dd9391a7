using System.Diagnostics;
using HdrHistogram;

namespace FileAio.Cli.Bench;

/// <summary>
/// The counters of one loop (a context job, one async loop, one sync thread). Exactly one thread writes them, the
/// loop's own, and the runner reads them only after the loop has ended, so no field needs synchronisation.
/// Latencies go into an HdrHistogram in nanoseconds (1 ns to 100 s, 3 significant digits): recording is an array
/// increment, with no allocation.
/// </summary>
internal sealed class WorkerStats
{
    private const long HighestNanoseconds = 100_000_000_000;
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public long Ops;
    public long Bytes;
    public long Errors;

    /// <summary>Bytes allocated by the loop's own thread during the measured phase; -1 when the loop does not run on
    /// a thread of its own (async loops hop between pool threads, so the runner measures the whole process instead).</summary>
    public long ThreadAllocatedBytes = -1;

    /// <summary>The first failure seen while measuring, for the report (allocated only when it happens).</summary>
    public string? FirstError;

    public LongHistogram Latency { get; } = new(HighestNanoseconds, 3);

    /// <summary>Counts one completed operation: a success when it moved
    /// <paramref name="expected"/> bytes.</summary>
    public void Record(long startTicks, long endTicks, long transferred, int expected)
    {
        Ops++;
        if (transferred == expected)
        {
            Bytes += transferred;
        }
        else
        {
            Errors++;
        }
        long nanoseconds = (long)((endTicks - startTicks) * s_nanosecondsPerTick);
        Latency.RecordValue(Math.Clamp(nanoseconds, 1, HighestNanoseconds));
    }

    public void NoteError(string message) => FirstError ??= message;

    /// <summary>Forgets the warm-up. Loops record during warm-up exactly as while measuring — so that every path the
    /// measured phase takes (HdrHistogram's included) has already run, been compiled and done any first-use allocation
    /// — and reset when they see <see cref="BenchPhase.Measure"/>, on their own thread.</summary>
    public void Reset()
    {
        Ops = 0;
        Bytes = 0;
        Errors = 0;
        FirstError = null;
        Latency.Reset();
    }
}
