using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Pipeline;

/// <summary>
/// A deep queue over one <see cref="AioContext"/>, for the commands that stream a file (copy, verify): <c>depth</c>
/// slots, each carrying one unit of work (a chunk) through one or more requests. One thread drives it — the caller's —
/// with batched submit and reap, as the bench's context loop does. The caller supplies two callbacks:
/// <list type="bullet">
/// <item><c>start(slot)</c> prepares the slot's request for a new unit of work and returns true, or returns false when
/// there is none left;</item>
/// <item><c>complete(slot)</c> handles the slot's completed request, and returns true when it prepared the request again
/// (the next step of the same unit: write after read, the rest of a short transfer) or false when the unit is done.
/// It throws to stop the pipeline (an I/O error, a verification failure).</item>
/// </list>
/// </summary>
/// <remarks>An exception leaves requests in flight; <see cref="Dispose"/> disposes the context first, which waits for
/// the kernel to let go of every buffer, and only then frees the buffers.</remarks>
internal sealed class AioPipeline : IDisposable
{
    // Wait returns at least this often, so cancellation (Ctrl+C) is noticed even when the device is slow.
    private static readonly TimeSpan s_waitTimeout = TimeSpan.FromMilliseconds(200);

    private readonly AioContext _context;
    private readonly PipelineSlot[] _slots;
    private readonly AioRequest[] _completed;
    private readonly AioRequest[] _batch;
    private int _pending;

    /// <summary>A pipeline over <paramref name="files"/> (associated with its context). Under Auto the engine is the one
    /// every file can take: the thread pool when any of them needs it (<see cref="AioFile.RecommendedEngine"/>: files on
    /// FUSE, where io_uring misreports reads that fail partway).</summary>
    /// <exception cref="UsageException">The engine cannot run here (with FileAio's reason).</exception>
    public AioPipeline(int depth, AioEngineKind engine, int bufferSize, int bufferAlignment, IReadOnlyList<SafeFileHandle> files,
        bool twoBuffers = false)
    {
        EngineNames.RequireSupported(engine);
        if (engine == AioEngineKind.Auto && files.Any(f => AioFile.RecommendedEngine(f) == AioEngineKind.ThreadPool))
        {
            engine = AioEngineKind.ThreadPool;
        }
        _context = AioContext.Create(depth + 1, new AioContextOptions { Engine = engine }); // + 1: room for the flush
        foreach (SafeFileHandle file in files)
        {
            _context.AssociateWithFile(file);
        }
        _slots = new PipelineSlot[depth];
        for (int i = 0; i < depth; i++)
        {
            _slots[i] = new PipelineSlot(i, bufferSize, bufferAlignment, twoBuffers);
        }
        _completed = new AioRequest[depth + 1];
        _batch = new AioRequest[depth];
    }

    /// <summary>The engine that runs the I/O (<c>io_uring</c>, <c>threadpool</c>).</summary>
    public string EngineName => EngineNames.Name(_context.Engine);

    /// <summary>Runs until every unit of work is done. Slot requests must be prepared with the slot as user state.</summary>
    public void Run(Func<PipelineSlot, bool> start, Func<PipelineSlot, bool> complete, CancellationToken cancellationToken)
    {
        _pending = 0;
        foreach (PipelineSlot slot in _slots)
        {
            if (start(slot))
            {
                _batch[_pending++] = slot.Request;
            }
        }
        SubmitPending(start, complete);

        while (_context.Outstanding > 0 || _pending > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AioWaitResult result = _context.Wait(1, s_waitTimeout, _completed);
            for (int i = 0; i < result.Count; i++)
            {
                var slot = (PipelineSlot)_completed[i].UserState!;
                if (complete(slot) || start(slot))
                {
                    _batch[_pending++] = slot.Request;
                }
            }
            SubmitPending(start, complete);
        }
    }

    /// <summary>fsyncs <paramref name="file"/> through the engine (an asynchronous fsync: io_uring's
    /// <c>IORING_OP_FSYNC</c>, or a worker's <c>fsync</c>), after every write submitted before it.</summary>
    public void Flush(SafeFileHandle file, string path)
    {
        using var flush = new AioRequest();
        flush.PrepareFlush(file);
        _context.Submit([flush]);
        while (flush.State != AioRequestState.Completed)
        {
            _context.Wait(1, s_waitTimeout, _completed);
        }
        if (flush.Status != AioStatus.Success)
        {
            throw IoFailureException.FromErrno("fsync", path, flush.ErrorCode);
        }
    }

    /// <summary>Submits the batch in one call. Requests the full context did not take stay for the next round; one
    /// refused outright (completed with its error at submit) is handed to <paramref name="complete"/> at once.</summary>
    private void SubmitPending(Func<PipelineSlot, bool> start, Func<PipelineSlot, bool> complete)
    {
        while (_pending > 0)
        {
            int accepted = _context.Submit(_batch.AsSpan(0, _pending));
            Span<AioRequest> rest = _batch.AsSpan(accepted, _pending - accepted);
            rest.CopyTo(_batch);
            _pending = rest.Length;
            if (_pending == 0 || _batch[0].State != AioRequestState.Completed)
            {
                return; // all taken, or the context is full: the rest go after the next Wait
            }
            var refused = (PipelineSlot)_batch[0].UserState!;
            _batch.AsSpan(1, _pending - 1).CopyTo(_batch);
            _pending--;
            if (complete(refused) || start(refused))
            {
                _batch[_pending++] = refused.Request;
            }
        }
    }

    public void Dispose()
    {
        _context.Dispose(); // cancels or waits for everything in flight: only then may the buffers go
        foreach (PipelineSlot slot in _slots)
        {
            slot.Dispose();
        }
    }
}
