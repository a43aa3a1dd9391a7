using System.Diagnostics;
using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary>
/// One job of <see cref="BenchApi.Context"/>: the raw contract driven the way a storage engine (or fio's io_uring
/// engine with <c>iodepth_batch_submit=iodepth, iodepth_batch_complete_min=1</c>) drives it. One dedicated thread keeps
/// <c>iodepth</c> requests in flight, reaps what has completed with one <see cref="AioContext.Wait"/>, re-prepares
/// each request at its next offset and submits them back as one batch. Modelled on bench/FileAio.Bench/AioRandRead.cs.
/// </summary>
/// <remarks>
/// The loop allocates nothing: requests, buffers and slots are made in the constructor, each request carries its slot
/// as its user state (a reference already allocated), and latencies go into a preallocated HdrHistogram. The
/// allocation counter of the job's thread is read at the phase edges to prove it (<see cref="WorkerStats.ThreadAllocatedBytes"/>).
/// A request's latency runs from just before the <see cref="AioContext.Submit"/> that carried it to just after the
/// <see cref="AioContext.Wait"/> that reported it, as fio's completion latency does.
/// </remarks>
internal sealed class ContextJob : IDisposable
{
    // Wait returns at least this often, so a loop sees the Stop phase even when nothing completes.
    private static readonly TimeSpan s_waitTimeout = TimeSpan.FromMilliseconds(100);

    private readonly SafeFileHandle _file;
    private readonly AioContext _context;
    private readonly int _blockSize;
    private readonly AioRequest[] _requests;
    private readonly Slot[] _slots;
    private readonly AioRequest[] _completed; // filled by Wait
    private readonly AioRequest[] _batch;     // prepared, waiting to be submitted; _pending of them
    private int _pending;
    private OffsetPicker _picker;
    private BenchPhase? _phase;
    private Thread? _thread;
    private Exception? _failure;

    /// <summary>A request's buffer and the time its last submit started.</summary>
    private sealed class Slot(AlignedBuffer buffer)
    {
        public AlignedBuffer Buffer { get; } = buffer;
        public Memory<byte> Memory { get; } = buffer.Memory;
        public long SubmitTicks;
    }

    public ContextJob(SafeFileHandle file, BenchCase benchCase, long fileSize, int bufferAlignment, SequentialCursor? cursor, ulong seed)
    {
        _file = file;
        _blockSize = benchCase.BlockSize;
        // Throws NotSupportedException with the reason for an engine that cannot run here; the command checked that
        // already, so this is only a second line of defence.
        _context = AioContext.Create(benchCase.IoDepth, new AioContextOptions { Engine = benchCase.Engine });
        _context.AssociateWithFile(file);
        _picker = new OffsetPicker(benchCase.Rw, fileSize, _blockSize, cursor, seed);
        int depth = benchCase.IoDepth;
        _requests = new AioRequest[depth];
        _slots = new Slot[depth];
        _completed = new AioRequest[depth];
        _batch = new AioRequest[depth];
        for (int i = 0; i < depth; i++)
        {
            var buffer = new AlignedBuffer(_blockSize, bufferAlignment);
            BenchData.FillBlock(buffer.GetSpan(), seed + (ulong)i);
            _slots[i] = new Slot(buffer);
            _requests[i] = new AioRequest();
        }
    }

    public WorkerStats Stats { get; } = new();

    public string EngineName => EngineNames.Name(_context.Engine);

    public void Start(BenchPhase phase, int index)
    {
        _phase = phase;
        // A dedicated thread, not the pool: the loop blocks in Wait by design. Started without the caller's
        // ExecutionContext, as nothing here needs it.
        using (ExecutionContext.SuppressFlow())
        {
            _thread = new Thread(Run) { Name = $"fileaio bench context job {index}", IsBackground = true };
            _thread.Start();
        }
    }

    /// <summary>Waits for the loop to end; rethrows its failure.</summary>
    public void Join()
    {
        _thread?.Join();
        if (_failure is not null)
        {
            throw new IOException($"context job failed: {_failure.Message}", _failure);
        }
    }

    private void Run()
    {
        // Nothing may escape a thread of our own: a failure is kept and rethrown by Join, on the runner's thread.
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            _failure = e;
        }
        try
        {
            Drain();
        }
        catch (Exception e)
        {
            _failure ??= e;
        }
    }

    /// <summary>The measured loop. It must not allocate (except to note the first error).</summary>
    private void Loop()
    {
        BenchPhase phase = _phase!;
        for (int i = 0; i < _requests.Length; i++)
        {
            PrepareNext(_requests[i], _slots[i]);
            _batch[_pending++] = _requests[i];
        }
        SubmitPending();

        var edges = new ThreadPhaseEdges();
        while (edges.Continue(phase, Stats))
        {
            AioWaitResult result = _context.Wait(1, s_waitTimeout, _completed);
            long completedTicks = Stopwatch.GetTimestamp();
            for (int i = 0; i < result.Count; i++)
            {
                AioRequest request = _completed[i];
                var slot = (Slot)request.UserState!;
                long transferred = request.Status == AioStatus.Success ? request.BytesTransferred : -1;
                Stats.Record(slot.SubmitTicks, completedTicks, transferred, _blockSize);
                if (transferred != _blockSize)
                {
                    NoteFailure(request);
                }
                PrepareNext(request, slot);
                _batch[_pending++] = request;
            }
            SubmitPending();
        }
    }

    /// <summary>Submits the batch as one call. Requests the context did not accept stay at the front of the batch for
    /// the next round (after the next Wait has made room) rather than being retried in a spin.</summary>
    private void SubmitPending()
    {
        if (_pending == 0)
        {
            return;
        }
        long ticks = Stopwatch.GetTimestamp();
        for (int i = 0; i < _pending; i++)
        {
            ((Slot)_batch[i].UserState!).SubmitTicks = ticks;
        }
        int accepted = _context.Submit(_batch.AsSpan(0, _pending));
        Span<AioRequest> rest = _batch.AsSpan(accepted, _pending - accepted);
        if (!rest.IsEmpty && rest[0].State == AioRequestState.Completed)
        {
            // Refused outright at submit (it carries the error): count it and try again at a new offset.
            Stats.Errors++;
            NoteFailure(rest[0]);
            PrepareNext(rest[0], (Slot)rest[0].UserState!);
        }
        rest.CopyTo(_batch);
        _pending = rest.Length;
    }

    private void PrepareNext(AioRequest request, Slot slot)
    {
        long offset = _picker.NextOffset();
        if (_picker.NextIsWrite())
        {
            request.PrepareWrite(_file, offset, slot.Memory, slot);
        }
        else
        {
            request.PrepareRead(_file, offset, slot.Memory, slot);
        }
    }

    private void NoteFailure(AioRequest request)
    {
        if (Stats.FirstError is null)
        {
            Stats.NoteError(request.Status == AioStatus.Failed
                ? $"{ErrnoText.Describe(request.ErrorCode)}"
                : $"short transfer: {request.BytesTransferred} of {_blockSize} bytes");
        }
    }

    /// <summary>Lets everything in flight finish, so the buffers can be freed (outside the measurement).</summary>
    private void Drain()
    {
        while (_context.Outstanding > 0)
        {
            _context.Wait(1, s_waitTimeout, _completed);
        }
    }

    public void Dispose()
    {
        _context.Dispose(); // waits for what the kernel still holds, so the buffers are free to go
        foreach (AioRequest request in _requests)
        {
            request.Dispose();
        }
        foreach (Slot slot in _slots)
        {
            slot.Buffer.Dispose();
        }
    }
}
