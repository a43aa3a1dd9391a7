using System.Diagnostics;
using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary><see cref="BenchApi.Sync"/>: blocking <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/> /
/// <c>Write</c>, one operation at a time on one dedicated thread per job (queue depth 1, like fio's psync).</summary>
internal sealed class SyncWorkload : IBenchWorkload
{
    private readonly SafeFileHandle _file;
    private readonly int _blockSize;
    private readonly Worker[] _workers;
    private BenchPhase? _phase;

    private sealed class Worker(AlignedBuffer buffer, OffsetPicker picker)
    {
        public AlignedBuffer Buffer { get; } = buffer;
        public OffsetPicker Picker = picker;
        public WorkerStats Stats { get; } = new();
        public Thread? Thread;
        public Exception? Failure;
    }

    public SyncWorkload(BenchCase benchCase, BenchSettings settings)
    {
        _file = BenchFileHandles.Open(settings.FilePath, benchCase);
        _blockSize = benchCase.BlockSize;
        int alignment = BenchFileHandles.BufferAlignment(AioFile.GetAlignment(_file));
        long region = settings.FileSize / benchCase.Jobs;
        _workers = new Worker[benchCase.Jobs];
        for (int j = 0; j < _workers.Length; j++)
        {
            SequentialCursor? cursor = BenchNames.IsRandom(benchCase.Rw) ? null : new SequentialCursor(j * region, region, _blockSize);
            var buffer = new AlignedBuffer(_blockSize, alignment);
            BenchData.FillBlock(buffer.GetSpan(), 0x5EEDUL + (ulong)j);
            _workers[j] = new Worker(buffer, new OffsetPicker(benchCase.Rw, settings.FileSize, _blockSize, cursor, 0x5EEDUL + (ulong)j));
        }
    }

    public string EngineName => "none";

    public IReadOnlyList<WorkerStats> Stats => [.. _workers.Select(w => w.Stats)];

    public void Start(BenchPhase phase)
    {
        _phase = phase;
        using (ExecutionContext.SuppressFlow())
        {
            for (int j = 0; j < _workers.Length; j++)
            {
                Worker worker = _workers[j];
                worker.Thread = new Thread(() => Run(worker)) { Name = $"fileaio bench sync job {j}", IsBackground = true };
                worker.Thread.Start();
            }
        }
    }

    public void Join()
    {
        foreach (Worker worker in _workers)
        {
            worker.Thread?.Join();
        }
        foreach (Worker worker in _workers)
        {
            if (worker.Failure is not null)
            {
                throw new IOException($"sync job failed: {worker.Failure.Message}", worker.Failure);
            }
        }
    }

    private void Run(Worker worker)
    {
        try
        {
            Loop(worker);
        }
        catch (Exception e)
        {
            worker.Failure = e;
        }
    }

    private void Loop(Worker worker)
    {
        BenchPhase phase = _phase!;
        Span<byte> span = worker.Buffer.GetSpan();
        var edges = new ThreadPhaseEdges();
        while (edges.Continue(phase, worker.Stats))
        {
            long offset = worker.Picker.NextOffset();
            bool write = worker.Picker.NextIsWrite();
            long start = Stopwatch.GetTimestamp();
            long transferred;
            try
            {
                if (write)
                {
                    RandomAccess.Write(_file, span, offset);
                    transferred = _blockSize;
                }
                else
                {
                    transferred = RandomAccess.Read(_file, span, offset);
                }
            }
            catch (IOException e)
            {
                transferred = -1;
                worker.Stats.NoteError(ErrnoText.Describe(e));
            }
            worker.Stats.Record(start, Stopwatch.GetTimestamp(), transferred, _blockSize);
        }
    }

    public void Dispose()
    {
        foreach (Worker worker in _workers)
        {
            worker.Buffer.Dispose();
        }
        _file.Dispose();
    }
}
