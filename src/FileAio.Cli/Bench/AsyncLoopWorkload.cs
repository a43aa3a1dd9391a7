using System.Diagnostics;
using FileAio.Buffers;

namespace FileAio.Cli.Bench;

/// <summary>
/// <c>jobs × iodepth</c> concurrent async loops, each awaiting one read or write at a time into its own aligned
/// buffer: how application code uses an async file API. Subclasses say which API (.NET's
/// <see cref="RandomAccess"/>, FileAio's <see cref="AioFile"/>).
/// </summary>
/// <remarks>
/// The loops run on thread-pool threads and hop between them, so allocations are measured for the whole process
/// (<see cref="WorkerStats.ThreadAllocatedBytes"/> stays -1). Each loop writes only its own <see cref="WorkerStats"/>;
/// the runner reads them after <see cref="Join"/>, which orders those writes before the reads.
/// </remarks>
internal abstract class AsyncLoopWorkload : IBenchWorkload
{
    private readonly BenchCase _case;
    private readonly Loop[] _loops;
    private Task[] _tasks = [];
    private BenchPhase? _phase;

    private sealed class Loop(AlignedBuffer buffer, OffsetPicker picker)
    {
        public AlignedBuffer Buffer { get; } = buffer;
        public OffsetPicker Picker = picker;
        public WorkerStats Stats { get; } = new();
    }

    protected AsyncLoopWorkload(BenchCase benchCase, BenchSettings settings, int bufferAlignment)
    {
        _case = benchCase;
        _loops = new Loop[benchCase.Jobs * benchCase.IoDepth];
        long region = settings.FileSize / benchCase.Jobs;
        for (int j = 0; j < benchCase.Jobs; j++)
        {
            SequentialCursor? cursor = BenchNames.IsRandom(benchCase.Rw) ? null : new SequentialCursor(j * region, region, benchCase.BlockSize);
            for (int d = 0; d < benchCase.IoDepth; d++)
            {
                int i = (j * benchCase.IoDepth) + d;
                var buffer = new AlignedBuffer(benchCase.BlockSize, bufferAlignment);
                BenchData.FillBlock(buffer.GetSpan(), 0x5EEDUL + (ulong)i);
                _loops[i] = new Loop(buffer, new OffsetPicker(benchCase.Rw, settings.FileSize, benchCase.BlockSize, cursor, 0x5EEDUL + (ulong)i));
            }
        }
    }

    public abstract string EngineName { get; }

    public IReadOnlyList<WorkerStats> Stats => [.. _loops.Select(l => l.Stats)];

    protected abstract ValueTask<int> ReadAsync(Memory<byte> buffer, long offset);

    /// <summary>Writes <paramref name="buffer"/>; returns the bytes written (a short write counts as an error).</summary>
    protected abstract ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, long offset);

    public void Start(BenchPhase phase)
    {
        _phase = phase;
        _tasks = [.. _loops.Select(loop => Task.Run(() => RunLoopAsync(loop)))];
    }

    public void Join()
    {
        try
        {
            Task.WaitAll(_tasks);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            throw new IOException($"{EngineName} loop failed: {e.InnerExceptions[0].Message}", e.InnerExceptions[0]);
        }
    }

    private async Task RunLoopAsync(Loop loop)
    {
        BenchPhase phase = _phase!;
        Memory<byte> memory = loop.Buffer.Memory;
        int blockSize = _case.BlockSize;
        int seen = BenchPhase.Warmup;
        while (true)
        {
            int now = phase.Value;
            if (now == BenchPhase.Stop)
            {
                return;
            }
            if (now != seen)
            {
                loop.Stats.Reset(); // the warm-up ran every path; count from here
                seen = now;
            }
            long offset = loop.Picker.NextOffset();
            bool write = loop.Picker.NextIsWrite();
            long start = Stopwatch.GetTimestamp();
            long transferred;
            try
            {
                transferred = write ? await WriteAsync(memory, offset) : await ReadAsync(memory, offset);
            }
            catch (IOException e)
            {
                transferred = -1;
                int errno = ErrnoText.FromException(e);
                loop.Stats.NoteError(errno != 0 ? ErrnoText.Describe(errno) : e.Message);
            }
            loop.Stats.Record(start, Stopwatch.GetTimestamp(), transferred, blockSize);
            if (transferred >= 0 && transferred != blockSize)
            {
                loop.Stats.NoteError($"short transfer: {transferred} of {blockSize} bytes");
            }
        }
    }

    public virtual void Dispose()
    {
        foreach (Loop loop in _loops)
        {
            loop.Buffer.Dispose();
        }
    }
}
