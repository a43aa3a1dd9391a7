namespace FileAio.Cli.Bench;

/// <summary>The next block of a sequential pattern, shared by the loops of one job: each call takes the next block of
/// the job's region, wrapping at its end. Thread-safe (one interlocked add).</summary>
internal sealed class SequentialCursor
{
    private readonly long _start;
    private readonly long _blocks;
    private readonly int _blockSize;
    private long _next = -1;

    public SequentialCursor(long start, long length, int blockSize)
    {
        _start = start;
        _blockSize = blockSize;
        _blocks = Math.Max(1, length / blockSize);
    }

    public long Next() => _start + (Interlocked.Increment(ref _next) % _blocks * _blockSize);
}
