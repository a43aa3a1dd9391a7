using System.Buffers;
using System.Diagnostics;
using System.Threading.Tasks.Sources;
using FileAio.Interop;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Async;

/// <summary>
/// One pooled asynchronous file operation: the <see cref="IValueTaskSource{TResult}"/> behind the
/// <see cref="ValueTask{TResult}"/>s of <see cref="AioFile"/>, and everything an engine worker needs to run it.
/// </summary>
/// <remarks>
/// <para>Life: rented from <see cref="OperationPool"/> by an <see cref="AioFile"/> method, which pins the buffers and
/// takes a reference on the file handle, then hands it to its worker. The worker runs it and calls
/// <see cref="Complete"/> exactly once, which releases pins, handle reference and cancellation registration
/// <em>before</em> the result is published. The awaiter's <see cref="GetResult"/> returns it to the pool.</para>
/// <para>Continuations never run on a worker thread: the source is created with RunContinuationsAsynchronously, so a
/// completion on a ring thread queues the awaiting continuation to the thread pool (without allocating, for async
/// methods: the runtime queues their state machine box itself).</para>
/// </remarks>
internal sealed class AioFileOperation : IValueTaskSource<int>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
    private OperationPool? _pool;

    // ---- The operation, set by Prepare, read by the worker.
    public AioOperationKind Kind;
    public AioFile? File;
    public long Offset;
    public bool DataOnly;
    public Memory<byte> Buffer;                  // a plain transfer (what is left of it after a partial cache hit)
    private int _cachedPrefix;                   // bytes the page-cache fast path already read, ahead of Buffer
    public Memory<byte>[] Segments = [];         // a vectored transfer (reused; grows)
    public int SegmentCount;                     // 0 flush, 1 plain, more vectored
    private bool _vectored;
    private MemoryHandle _pin;
    private MemoryHandle[] _segmentPins = [];
    private bool _fileReferenced;

    // ---- Cancellation.
    public CancellationToken CancellationToken;
    private CancellationTokenRegistration _registration;
    private Action<AioFileOperation>? _onCancel;

    // ---- Worker-owned while running.
    public ulong UserData;                        // ring worker: slot and generation
    public AioRequest? Request;                   // context worker: the request that carries it
    private IoVec[] _iovecs = [];                 // ring worker: iovec array for vectored transfers (pinned heap)
    public long StartTimestamp;

    /// <summary>The iovecs of a prepared vectored transfer, one per pinned segment, in an array of this operation's that
    /// never moves (pinned object heap) and is valid until the operation completes.</summary>
    public unsafe IoVec* SegmentIovecs()
    {
        if (_iovecs.Length < SegmentCount)
        {
            _iovecs = GC.AllocateArray<IoVec>(SegmentCount, pinned: true);
        }
        var vectors = (IoVec*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_iovecs));
        for (int i = 0; i < SegmentCount; i++)
        {
            vectors[i].Base = SegmentPointer(i);
            vectors[i].Length = (nuint)SegmentLength(i);
        }
        return vectors;
    }

    public short Version => _core.Version;

    internal void AttachPool(OperationPool pool) => _pool = pool;

    /// <summary>Fills in a transfer or flush and takes what it needs from the caller's side: the handle reference
    /// and the pins. Throws (and holds nothing) if the handle was closed. <paramref name="cachedPrefix"/>: bytes of the
    /// read the page cache already gave, just before <paramref name="buffer"/> and <paramref name="offset"/>; they are
    /// added to the engine's result.</summary>
    public void Prepare(AioOperationKind kind, AioFile file, long offset, Memory<byte> buffer, bool dataOnly,
        int cachedPrefix = 0)
    {
        Kind = kind;
        File = file;
        Offset = offset;
        DataOnly = dataOnly;
        Buffer = buffer;
        _cachedPrefix = cachedPrefix;
        SegmentCount = kind == AioOperationKind.Flush ? 0 : 1;
        _vectored = false;
        ReferenceFile();
        if (SegmentCount == 1)
        {
            _pin = buffer.Pin();
        }
    }

    public void PrepareVectored(AioOperationKind kind, AioFile file, long offset, int count)
    {
        Kind = kind;
        File = file;
        Offset = offset;
        DataOnly = false;
        Buffer = default;
        _cachedPrefix = 0;
        if (_segmentPins.Length < count)
        {
            _segmentPins = new MemoryHandle[count]; // before anything can throw: ReleaseResources walks them
        }
        SegmentCount = count;
        _vectored = true;
        ReferenceFile();
        for (int i = 0; i < count; i++)
        {
            _segmentPins[i] = Segments[i].Pin();
        }
    }

    /// <summary>Room for <paramref name="count"/> vectored buffers, filled by the caller before
    /// <see cref="PrepareVectored"/>.</summary>
    public Memory<byte>[] RentSegments(int count)
    {
        if (Segments.Length < count)
        {
            Segments = new Memory<byte>[count];
        }
        return Segments;
    }

    private void ReferenceFile()
    {
        bool added = false;
        File!.Handle.DangerousAddRef(ref added); // throws ObjectDisposedException when the handle is closed
        _fileReferenced = true;
    }

    public int Fd => (int)File!.Handle.DangerousGetHandle();

    public bool IsVectored => _vectored;

    public unsafe byte* SegmentPointer(int index) => (byte*)(_vectored ? _segmentPins[index].Pointer : _pin.Pointer);

    public int SegmentLength(int index) => _vectored ? Segments[index].Length : Buffer.Length;

    /// <summary>Registers for cancellation: <paramref name="onCancel"/> runs (on the cancelling thread) if the token
    /// fires while the operation is in flight.</summary>
    public void RegisterCancellation(Action<AioFileOperation> onCancel, CancellationToken token)
    {
        CancellationToken = token;
        if (token.CanBeCanceled)
        {
            _onCancel = onCancel;
            _registration = token.UnsafeRegister(static state =>
            {
                var operation = (AioFileOperation)state!;
                operation._onCancel?.Invoke(operation);
            }, this);
        }
    }

    /// <summary>
    /// Finishes the operation with the kernel's answer (bytes, or -errno). Called exactly once, by the worker, when
    /// the kernel is done with the buffers. Releases everything first, then publishes the result.
    /// </summary>
    public void Complete(long result)
    {
        // Dispose (not Unregister): waits for a cancellation callback that is running right now, so it cannot act on
        // this object after it has gone back to the pool.
        _registration.Dispose();
        _registration = default;
        _onCancel = null;
        ReleaseResources();
        if (_cachedPrefix > 0)
        {
            // The rest of a read the page cache served in part: the caller gets every byte read, and an error or a
            // cancellation of the rest leaves a short read (as pread would), not an exception that hides the data.
            result = result >= 0 ? result + _cachedPrefix : _cachedPrefix;
        }

        AioFile file = File!;
        file.OnOperationFinished(this, result);
        if (result >= 0)
        {
            _core.SetResult((int)result);
        }
        else if (result == EngineResult.Canceled
            || (result is -Errno.ECANCELED or -Errno.EINTR && CancellationToken.IsCancellationRequested))
        {
            _core.SetException(new OperationCanceledException(CancellationToken));
        }
        else
        {
            int errno = (int)-result;
            _core.SetException(Errors.IOExceptionFor(errno, file.Path, Kind switch
            {
                AioOperationKind.Read => "read failed",
                AioOperationKind.Write => "write failed",
                _ => "flush failed",
            }));
        }
    }

    /// <summary>Undoes <see cref="Prepare"/> for an operation that never reached a worker.</summary>
    public void Abandon()
    {
        ReleaseResources();
        Reset();
    }

    private void ReleaseResources()
    {
        if (!_vectored)
        {
            _pin.Dispose();
            _pin = default;
        }
        else
        {
            for (int i = 0; i < SegmentCount; i++)
            {
                _segmentPins[i].Dispose();
                _segmentPins[i] = default;
                Segments[i] = default;
            }
        }
        Buffer = default;
        if (_fileReferenced)
        {
            File!.Handle.DangerousRelease();
            _fileReferenced = false;
        }
    }

    private void Reset()
    {
        _core.Reset();
        File = null;
        CancellationToken = default;
        _pool?.Return(this);
    }

    public int GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Reset();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    [Conditional("DEBUG")]
    public void AssertIdle() => Debug.Assert(File is null, "A pooled operation must be idle.");
}
