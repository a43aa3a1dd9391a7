namespace FileAio.Cli.Bench;

/// <summary>
/// What a worker that runs on a thread of its own does at the edges of the <see cref="BenchPhase"/>: when measuring
/// starts, reset its stats and note its thread's allocation counter; when the case stops, record what the thread
/// allocated while measuring (<see cref="WorkerStats.ThreadAllocatedBytes"/>). A mutable struct kept in a local of
/// the worker's loop; it allocates nothing.
/// </summary>
internal struct ThreadPhaseEdges
{
    private int _seen;                 // BenchPhase.Warmup
    private long _allocatedAtStart;

    /// <summary>Reads the phase and acts on a change; returns false once the case has stopped.</summary>
    public bool Continue(BenchPhase phase, WorkerStats stats)
    {
        int now = phase.Value;
        if (now == _seen)
        {
            return true;
        }
        if (now == BenchPhase.Measure)
        {
            stats.Reset();
            _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        }
        else if (now == BenchPhase.Stop)
        {
            stats.ThreadAllocatedBytes = _seen == BenchPhase.Measure ? GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart : 0;
            return false;
        }
        _seen = now;
        return true;
    }
}
