namespace FileAio.Cli.Bench;

/// <summary>One case's loops. Created with everything it needs already allocated (file open, buffers, requests), so
/// that what is measured is the I/O path alone.</summary>
internal interface IBenchWorkload : IDisposable
{
    /// <summary>The engine that runs the I/O (<c>io_uring</c>, <c>threadpool</c>), or <c>none</c> for the .NET apis.</summary>
    string EngineName { get; }

    /// <summary>Starts every loop in <see cref="BenchPhase.Warmup"/>; they return once they see <see cref="BenchPhase.Stop"/>.</summary>
    void Start(BenchPhase phase);

    /// <summary>Waits until every loop has drained what it had in flight and returned; rethrows a loop's failure.</summary>
    void Join();

    /// <summary>Every loop's counters (call after <see cref="Join"/>).</summary>
    IReadOnlyList<WorkerStats> Stats { get; }
}
