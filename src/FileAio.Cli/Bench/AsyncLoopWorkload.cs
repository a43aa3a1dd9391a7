using System.Diagnostics;
using FileAio.Buffers;

namespace FileAio.Cli.Bench;

/// <summary>
/// <c>jobs × iodepth</c> concurrent async loops, each awaiting one read or write at a time into its own aligned
/// buffer: how application code uses an async file API. Subclasses say which API (.NET's
/// <see cref="RandomAccess"/>, FileAio's <see cref="AioFile"/>) and where the loops run.
/// </summary>
/// <remarks>
/// The loops run on thread-pool threads and hop between them (or, in the loop mode, on engine threads with the
/// engine's own work between them), so allocations are measured for the whole process
/// (<see cref="WorkerStats.ThreadAllocatedBytes"/> stays -1). Each loop writes only its own <see cref="WorkerStats"/>;
/// the runner reads them after <see cref="Join"/>, which orders those writes before the reads.
/// </remarks>
internal abstract class AsyncLoopWorkload : IBenchWorkload
{
    private readonly BenchCase _case;
    private readonly Loop[] _loops;
    private Task[] _tasks = [];
    private BenchPhase? _phase;

    private sealed class Loop(int job, AlignedBuffer buffer, OffsetPicker picker)
    {
        public int Job { get; } = job;
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
                _loops[i] = new Loop(j, buffer, new OffsetPicker(benchCase.Rw, settings.FileSize, benchCase.BlockSize, cursor, 0x5EEDUL + (ulong)i));
            }
        }
    }

    public abstract string EngineName { get; }

    public IReadOnlyList<WorkerStats> Stats => [.. _loops.Select(l => l.Stats)];

    /// <summary>Reads into <paramref name="buffer"/>; returns the bytes read (a short read counts as an error).
    /// Override this, or <see cref="ReadAsync(int, Memory{byte}, long)"/> when each job has a file of its own.</summary>
    protected virtual ValueTask<int> ReadAsync(Memory<byte> buffer, long offset) =>
        throw new NotSupportedException($"{GetType().Name} reads per job");

    /// <summary>Writes <paramref name="buffer"/>; returns the bytes written (a short write counts as an error).</summary>
    protected virtual ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, long offset) =>
        throw new NotSupportedException($"{GetType().Name} writes per job");

    /// <summary>A read for a loop of job <paramref name="job"/>: the job-less read unless a workload has per-job files.</summary>
    protected virtual ValueTask<int> ReadAsync(int job, Memory<byte> buffer, long offset) => ReadAsync(buffer, offset);

    /// <summary>A write for a loop of job <paramref name="job"/>: the job-less write unless a workload has per-job files.</summary>
    protected virtual ValueTask<int> WriteAsync(int job, ReadOnlyMemory<byte> buffer, long offset) => WriteAsync(buffer, offset);

    /// <summary>Operations a loop completes without suspending (page-cache hits) before it yields, or 0: never. Where
    /// loops share one thread that runs nothing else (the loop mode), a loop whose reads all hit the cache would
    /// otherwise never let the others run; on the thread pool every loop has a thread of its own to run on.</summary>
    protected virtual int InlineRunLimit => 0;

    /// <summary>Starts one async loop of job <paramref name="job"/>: on the thread pool, unless a workload runs its
    /// loops somewhere else (the loop mode runs each job's on an engine thread).</summary>
    protected virtual Task StartLoop(int job, Func<Task> run) => Task.Run(run);

    public void Start(BenchPhase phase)
    {
        _phase = phase;
        _tasks = [.. _loops.Select(loop => StartLoop(loop.Job, () => RunLoopAsync(loop)))];
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
        int inlineInARow = 0;
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
            bool inline = false;
            try
            {
                ValueTask<int> pending = write ? WriteAsync(loop.Job, memory, offset) : ReadAsync(loop.Job, memory, offset);
                inline = pending.IsCompleted;
                transferred = await pending;
            }
            catch (IOException e)
            {
                transferred = -1;
                loop.Stats.NoteError(ErrnoText.Describe(e));
            }
            loop.Stats.Record(start, Stopwatch.GetTimestamp(), transferred, blockSize);
            if (transferred >= 0 && transferred != blockSize)
            {
                loop.Stats.NoteError($"short transfer: {transferred} of {blockSize} bytes");
            }
            if (inline && InlineRunLimit > 0 && ++inlineInARow >= InlineRunLimit)
            {
                inlineInARow = 0;
                await Task.Yield(); // after the latency was taken: the wait for the other loops is not this operation's
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
