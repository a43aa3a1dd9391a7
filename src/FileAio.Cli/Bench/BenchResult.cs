namespace FileAio.Cli.Bench;

/// <summary>What one run of one case measured.</summary>
/// <param name="Engine">The engine that ran the I/O (<c>io_uring</c>, <c>threadpool</c>) or <c>none</c>.</param>
/// <param name="Round">1-based repetition of the matrix (<c>--repeat</c>).</param>
/// <param name="RuntimeSeconds">Wall-clock length of the measured phase.</param>
/// <param name="Errors">Operations that failed or moved fewer bytes than asked.</param>
/// <param name="CpuSeconds">CPU time of the whole process (user + system, every thread) over the measured phase.</param>
/// <param name="AllocatedBytes">Bytes allocated over the measured phase, in <paramref name="AllocScope"/>.</param>
/// <param name="AllocScope"><c>thread</c>: the loops' own threads (context, sync); <c>process</c>: everything
/// (async loops hop between pool threads).</param>
/// <param name="Latency">Per-operation latency percentiles in microseconds.</param>
internal sealed record BenchResult(
    BenchCase Case, string Engine, int Round, double RuntimeSeconds, long Ops, long Bytes, long Errors,
    double CpuSeconds, long AllocatedBytes, string AllocScope, LatencySummary Latency, string? FirstError)
{
    public double Iops => RuntimeSeconds > 0 ? Ops / RuntimeSeconds : 0;

    public double BytesPerSecond => RuntimeSeconds > 0 ? Bytes / RuntimeSeconds : 0;

    public double CpuMicrosecondsPerOp => Ops > 0 ? CpuSeconds * 1e6 / Ops : 0;

    public double AllocBytesPerOp => Ops > 0 ? (double)AllocatedBytes / Ops : 0;

    /// <summary>IOPS over the IOPS of the comparable RandomAccess case of the same round; null when none ran.</summary>
    public double? VsRandomAccess { get; init; }

    /// <summary>For <see cref="ReadWriteMode.Wal"/>: commits/s over those of the FileStream case of the same round;
    /// null when none ran.</summary>
    public double? VsFileStream { get; init; }
}
