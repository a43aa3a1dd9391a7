using System.Collections.Concurrent;

namespace FileAio.Async;

/// <summary>
/// The async layer over any <see cref="AioContext"/> engine (the thread-pool engine where io_uring cannot run):
/// callers submit their own request, and one thread waits for completions and finishes the operations.
/// </summary>
/// <remarks>
/// Submit may be called from any thread (SPEC §2), so no queue or hand-off is needed on the way in. When the context
/// is full, operations wait in <c>_backlog</c>, which the waiting thread drains as completions make room. Cancel uses
/// the contract's <see cref="AioRequest.Cancel"/>: Canceled there means the kernel never touched the buffer.
/// </remarks>
internal sealed class ContextWorker : IAsyncWorker
{
    /// <summary>Requests one worker keeps in flight; the thread-pool engine runs at most 16 at once anyway.</summary>
    private const int Capacity = 1024;

    private readonly AioContext _context;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<AioFileOperation> _backlog = new();
    private volatile bool _stopping;

    public ContextWorker(AioEngineKind engine, int index)
    {
        _context = AioContext.Create(Capacity, new AioContextOptions { Engine = engine, WaitWithoutPendingRequests = true });
        _thread = new Thread(Run) { IsBackground = true, Name = $"FileAio waiter {index}" };
        _thread.UnsafeStart();
    }

    public AioEngineKind Engine => _context.Engine;

    public void Enqueue(AioFileOperation operation)
    {
        if (operation.CancellationToken.IsCancellationRequested)
        {
            operation.Complete(EngineResult.Canceled); // cancelled before it reached the engine
            return;
        }
        AioRequest request = operation.Request ??= new AioRequest();
        PrepareRequest(operation, request);
        if (!_backlog.IsEmpty || _context.Submit([request]) == 0)
        {
            _backlog.Enqueue(operation); // full: the waiter submits it when completions make room
            _context.Wakeup();
        }
    }

    public void RequestCancel(AioFileOperation operation)
    {
        AioRequest? request = operation.Request;
        if (request is not null && request.UserState == operation && request.Cancel() == AioCancelResult.Canceled)
        {
            operation.Complete(EngineResult.Canceled);
        }
    }

    private static void PrepareRequest(AioFileOperation operation, AioRequest request)
    {
        switch (operation.Kind)
        {
            case AioOperationKind.Read when !operation.IsVectored:
                request.PrepareRead(operation.File!.Handle, operation.Offset, operation.Buffer, operation);
                break;
            case AioOperationKind.Write when !operation.IsVectored:
                request.PrepareWrite(operation.File!.Handle, operation.Offset, operation.Buffer, operation);
                break;
            case AioOperationKind.Read:
                request.PrepareRead(operation.File!.Handle, operation.Offset, new ArraySegment<Memory<byte>>(operation.Segments, 0, operation.SegmentCount), operation);
                break;
            case AioOperationKind.Write:
                request.PrepareWrite(operation.File!.Handle, operation.Offset, ToReadOnly(operation), operation);
                break;
            default:
                request.PrepareFlush(operation.File!.Handle, operation.DataOnly, operation);
                break;
        }
    }

    /// <summary>The write's buffers in the type the contract's vectored write takes. This (and the ArraySegment of a
    /// vectored read) allocates per vectored operation: accepted on this fallback path, which blocks a thread per
    /// operation anyway; the io_uring path allocates nothing.</summary>
    private static ReadOnlyMemory<byte>[] ToReadOnly(AioFileOperation operation)
    {
        var segments = new ReadOnlyMemory<byte>[operation.SegmentCount];
        for (int i = 0; i < segments.Length; i++)
        {
            segments[i] = operation.Segments[i];
        }
        return segments;
    }

    private void Run()
    {
        var completed = new AioRequest[256];
        try
        {
            while (!_stopping || _context.Outstanding > 0 || !_backlog.IsEmpty)
            {
                AioWaitResult result = _context.Wait(1, _stopping ? TimeSpan.FromMilliseconds(10) : Timeout.InfiniteTimeSpan, completed);
                for (int i = 0; i < result.Count; i++)
                {
                    AioRequest request = completed[i];
                    completed[i] = null!;
                    var operation = (AioFileOperation)request.UserState!;
                    long outcome = request.Status switch
                    {
                        AioStatus.Success => request.BytesTransferred,
                        AioStatus.Canceled => EngineResult.Canceled,
                        _ => EngineResult.FromErrno(request.ErrorCode),
                    };
                    operation.Complete(outcome);
                }
                while (_backlog.TryPeek(out AioFileOperation? waiting) && _context.Submit([waiting.Request!]) == 1)
                {
                    _backlog.TryDequeue(out _);
                }
            }
        }
        catch (Exception e)
        {
            Environment.FailFast("FileAio: an async-layer waiter failed; operations in flight could never complete.", e);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _context.Wakeup();
        _thread.Join();
        _context.Dispose();
    }
}
