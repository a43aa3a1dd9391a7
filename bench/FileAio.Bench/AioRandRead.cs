using FileAio.Cli.Bench;
using System.Diagnostics;
using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Bench;

/// <summary>
/// Random reads through the raw contract, the way a storage engine would drive it: one thread keeps
/// <c>iodepth</c> requests in flight, reaps completions in batches with <see cref="AioContext.Wait"/> and submits the
/// re-prepared requests as one batch. This is the loop fio's io_uring engine runs with
/// <c>iodepth_batch_submit=iodepth, iodepth_batch_complete_min=1</c>.
/// </summary>
internal sealed class AioRandRead : IDisposable
{
    // Wait returns at least every second, so a stalled engine shows up as a hang-free run with few ops.
    private static readonly TimeSpan s_waitTimeout = TimeSpan.FromSeconds(1);

    private readonly Options _options;
    private readonly SafeFileHandle _file;
    private readonly AioContext _context;
    private readonly AioRequest[] _requests;
    private readonly AlignedBuffer[] _buffers;
    private readonly AioRequest[] _completed;  // filled by Wait
    private readonly AioRequest[] _batch;      // prepared, waiting to be submitted; _pending of them
    private readonly int _completeMax;         // the most completions one Wait collects
    private int _pending;
    private XorShift _random = new(0x5EED_F11E_A10UL);
    private long _ops;
    private long _errors;

    public AioRandRead(Options options)
    {
        _options = options;
        _file = AioFile.OpenHandle(options.File!, FileMode.Open, FileAccess.Read, options.Direct);
        // One thread drives the context (like fio's job thread): SingleThreaded lets io_uring use SINGLE_ISSUER and
        // DEFER_TASKRUN, so completions do not interrupt the thread one by one.
        _context = AioContext.Create(options.IoDepth, new AioContextOptions { Engine = options.Engine, SingleThreaded = true });
        _context.AssociateWithFile(_file);
        _requests = new AioRequest[options.IoDepth];
        _buffers = new AlignedBuffer[options.IoDepth];
        _completed = new AioRequest[options.IoDepth];
        _completeMax = options.CompleteMax > 0 ? options.CompleteMax : options.IoDepth;
        _batch = new AioRequest[options.IoDepth];
        for (int i = 0; i < options.IoDepth; i++)
        {
            _buffers[i] = new AlignedBuffer(options.BlockSize);
            // Like fio's --fixedbufs: io_uring registers the buffer once instead of pinning it on every read.
            _context.AssociateWithBuffer(_buffers[i].Memory);
            _requests[i] = new AioRequest();
            PrepareNext(_requests[i], _buffers[i]);
            _batch[_pending++] = _requests[i];
        }
    }

    public Measurement Run()
    {
        SubmitPending();
        RunUntil(Deadline(_options.WarmupSeconds));

        // Snapshot the counters; requests stay in flight across the boundary, as in fio's ramp_time.
        long ops0 = _ops, errors0 = _errors;
        TimeSpan cpu0 = ProcessCpu.Now();
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();

        RunUntil(Deadline(_options.RuntimeSeconds));

        long end = Stopwatch.GetTimestamp();
        long alloc1 = GC.GetAllocatedBytesForCurrentThread();
        TimeSpan cpu1 = ProcessCpu.Now();
        long ops = _ops - ops0, errors = _errors - errors0;

        Drain();
        return new Measurement(
            _context.Engine.ToString(), _options.Direct, _options.BlockSize, _options.IoDepth,
            Stopwatch.GetElapsedTime(start, end).TotalSeconds, ops, errors, (cpu1 - cpu0).TotalSeconds,
            alloc1 - alloc0, "this thread");
    }

    private static long Deadline(double seconds) =>
        Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);

    /// <summary>The measured loop. It must not allocate: everything it touches was made in the constructor.</summary>
    private void RunUntil(long deadline)
    {
        int blockSize = _options.BlockSize;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            AioWaitResult result = _context.Wait(1, s_waitTimeout, _completed.AsSpan(0, _completeMax));
            for (int i = 0; i < result.Count; i++)
            {
                AioRequest request = _completed[i];
                _ops++;
                if (request.Status != AioStatus.Success || request.BytesTransferred != blockSize)
                {
                    _errors++;
                }
                PrepareNext(request, BufferOf(request));
                _batch[_pending++] = request;
            }
            SubmitPending();
        }
    }

    /// <summary>Submits the batch as one call. Requests the context did not accept stay at the front of the batch
    /// for the next round (after the next Wait has made room) rather than being retried in a spin.</summary>
    private void SubmitPending()
    {
        if (_pending == 0)
        {
            return;
        }
        int accepted = _context.Submit(_batch.AsSpan(0, _pending));
        Span<AioRequest> rest = _batch.AsSpan(accepted, _pending - accepted);
        if (!rest.IsEmpty && rest[0].State == AioRequestState.Completed)
        {
            // Refused outright at submit time (it carries the error): count it and try it again at a new offset.
            _errors++;
            PrepareNext(rest[0], BufferOf(rest[0]));
        }
        rest.CopyTo(_batch);
        _pending = rest.Length;
    }

    /// <summary>Lets everything in flight finish, so the buffers can be freed (outside the measurement).</summary>
    private void Drain()
    {
        while (_context.Outstanding > 0)
        {
            _context.Wait(1, s_waitTimeout, _completed);
        }
    }

    /// <summary>Points <paramref name="request"/> at a new random block. Each request keeps its own buffer for life,
    /// carried as its user state: a reference already allocated, so re-preparing allocates nothing.</summary>
    private void PrepareNext(AioRequest request, AlignedBuffer buffer) =>
        request.PrepareRead(_file, _random.NextOffset(_options.Size, _options.BlockSize), buffer.Memory, userState: buffer);

    private static AlignedBuffer BufferOf(AioRequest request) => (AlignedBuffer)request.UserState!;

    public void Dispose()
    {
        _context.Dispose();
        foreach (AioRequest request in _requests)
        {
            request.Dispose();
        }
        foreach (AlignedBuffer buffer in _buffers)
        {
            buffer.Dispose();
        }
        _file.Dispose();
    }
}
