namespace FileAio.Faster.Bench;

/// <summary>Where a run is: the workers read it at every step, the main thread moves it on.</summary>
internal enum RunPhase
{
    /// <summary>Running, nothing recorded yet: the JIT settles, the thread pool grows, FASTER's memory turns over.</summary>
    Warmup,

    /// <summary>Counted: the workers reset their latency histograms when they first see this phase.</summary>
    Measure,

    /// <summary>The workers finish what they have in flight and end.</summary>
    Stop,
}

/// <summary>The phase, shared by the main thread (its one writer) and the workers.</summary>
internal sealed class RunClock
{
    private volatile RunPhase _phase = RunPhase.Warmup;

    public RunPhase Phase
    {
        get => _phase;
        set => _phase = value;
    }
}
