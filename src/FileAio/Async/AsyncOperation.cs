using System.Diagnostics;
using System.Threading.Tasks.Sources;
using FileAio.Engines;
using FileAio.Interop;
using FileAio.Platform;

namespace FileAio.Async;

/// <summary>
/// One pooled asynchronous file operation: the <see cref="IValueTaskSource{TResult}"/> behind the
/// <see cref="ValueTask{TResult}"/>s of an async file, around the <see cref="IoOperation"/> its engine runs.
/// </summary>
/// <remarks>
/// <para>1. Life. Rented by the file, which describes and pins <see cref="Io"/>, then <see cref="Begin"/>s it —
/// which binds its cancellation token before any engine can see it — and hands it to its engine loop. The loop calls
/// <see cref="Complete"/> exactly once, when the kernel is done with the buffers: it releases the pins, the handle
/// reference and the token registration <em>before</em> it publishes the result. Its one consumer's
/// <see cref="GetResult"/> returns it to the pool.</para>
/// <para>2. One consumer (SPEC §4). <c>_lease</c> holds the version this life answers to and, once read, a consumed
/// bit. A GetResult with a stale token, before completion, or a second one throws
/// <see cref="InvalidOperationException"/> and changes nothing; only the one valid read recycles the operation. The
/// compare-and-swap on the whole word means a stale caller can never claim the next life of the same object.</para>
/// <para>3. Cancellation is bound from creation: the token's callback sets <c>_cancelRequested</c> and tells the loop
/// which operation (object and version) to cancel. The loop honours the flag when it takes the operation, so a
/// cancel that comes before the loop has seen the operation is not lost, and the version makes a late message for an
/// earlier life harmless.</para>
/// <para>4. Continuations run where the life's <see cref="Mode"/> says, chosen in <see cref="Begin"/>. Queued (the
/// default): the source runs them asynchronously, so a completion on the loop queues the awaiting continuation to the
/// thread pool (without allocating, for async methods: the runtime queues their state machine box itself). Loop
/// (<see cref="AioLoop"/>): an operation begun by code running on its own loop's thread runs its continuation
/// synchronously, so code awaiting it on the loop resumes inline when the loop completes it — the captured context is
/// the loop's, which is current there, so the runtime invokes it directly, without queueing or allocating. Awaited from
/// another thread instead, it goes back to queueing its continuation (<see cref="OnCompleted"/>). Inline
/// (<see cref="AioFileOptions.InlineCompletions"/>): the source runs the continuation synchronously on the engine
/// thread, which clears its own context for the call (EngineLoop remark 7); an awaiter that captured a context or a
/// scheduler is posted to it all the same, as the runtime's core always does with a captured context.</para>
/// </remarks>
internal sealed class AsyncOperation : IValueTaskSource<int>, IValueTaskSource
{
    private const int ConsumedBit = 1 << 16;

    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
    private readonly OperationPool? _pool;      // null for a flush group's carrier, which is never pooled
    private int _lease;                         // remark 2: version in the low 16 bits, ConsumedBit once read

    private AsyncFile? _file;
    private int _cachedPrefix;                  // bytes the page-cache fast path already read, ahead of the engine's part
    private long _startTimestamp;               // for the latency metric (0 when no one listens)

    private ContinuationMode _mode;             // remark 4: this life's

    private CancellationToken _token;
    private CancellationTokenRegistration _registration;
    private int _cancelRequested;
    private bool _engineCancelAsked;            // the loop asked the engine to cancel it (a token, or its file's Dispose)

    public AsyncOperation(OperationPool pool)
    {
        _pool = pool;
        Io = new IoOperation(this);
    }

    private AsyncOperation(bool flush)
    {
        Io = new IoOperation(this);
        IsFlushCarrier = flush;
        IsWriteCarrier = !flush;
        CarrierRiders = new OperationList();
    }

    /// <summary>A carrier's riders: the flushes its fsync answers (its loop's, see <see cref="FlushGroup"/>), or the
    /// writes its one vectored write carries (<see cref="WriteGather"/>).</summary>
    public OperationList? CarrierRiders { get; }

    /// <summary>A flush carrier whose fsync may have run before writes that some of its riders wait for: writes of a
    /// gathered write that wrote none of their bytes, started again on their own (<see cref="WriteGather"/>, remark
    /// 3). Its success must not answer them (the loop's).</summary>
    public bool AnswersTooEarly;

    /// <summary>A caller's write that goes to the engine on its own, never gathered: started again after the gathered
    /// write that carried it wrote none of its bytes (<see cref="WriteGather"/>, remark 3). Reset with the life.</summary>
    public bool WriteAlone;

    /// <summary>A flush carrier's place among its file's fsyncs (1 = the first), while the engine has it; a write
    /// carrier's: how many fsyncs of its file had been issued when the engine accepted it (<see cref="WriteGather"/>,
    /// remark 5), <see cref="long.MaxValue"/> before. The loop's.</summary>
    public long CarrierIssueNumber;

    /// <summary>The carrier a caller's flush or write rides (the loop's, while <see cref="State"/> is FlushRiding or
    /// WriteRiding).</summary>
    public AsyncOperation? RidingOn;

    /// <summary>The operation a <see cref="FlushGroup"/> runs its shared fsync in: never pooled, never consumed by a
    /// caller, never completed through <see cref="Complete"/> (the loop hands its answer to the group's riders).</summary>
    public static AsyncOperation CreateCarrier() => new(flush: true);

    /// <summary>The operation a <see cref="WriteGather"/> runs one vectored write in, for the writes it gathered: never
    /// pooled by a file, never consumed by a caller, never completed through <see cref="Complete"/> (the loop hands
    /// each rider its part of the answer).</summary>
    public static AsyncOperation CreateWriteCarrier() => new(flush: false);

    /// <summary>A flush group's carrier (<see cref="CreateCarrier"/>).</summary>
    public bool IsFlushCarrier { get; }

    /// <summary>A gathered write's carrier (<see cref="CreateWriteCarrier"/>).</summary>
    public bool IsWriteCarrier { get; }

    /// <summary>The loop asked the engine to cancel this operation (<see cref="NoteEngineCancelAsked"/>).</summary>
    public bool EngineCancelAsked => _engineCancelAsked;

    /// <summary>What the engine runs.</summary>
    public IoOperation Io { get; }

    /// <summary>The version the current life's <see cref="ValueTask"/> carries.</summary>
    public short Version => _core.Version;

    public AsyncFile File => _file!;

    /// <summary>Where this life's continuation runs (remark 4).</summary>
    public ContinuationMode Mode => _mode;

    /// <summary>The token fired (remark 3). The loop checks it when it takes the operation.</summary>
    public bool IsCancelRequested => Volatile.Read(ref _cancelRequested) != 0;

    // ---- The loop's, while it holds the operation (see EngineLoop).
    public AsyncOperation? Previous;
    public AsyncOperation? Next;
    public LoopState State;
    public int StartTurn;   // the loop's turn that moved it into the engine (EngineLoop, "waves")

    /// <summary>Binds the described, pinned operation to its file and token, just before it goes to the loop.</summary>
    public void Begin(AsyncFile file, int cachedPrefix, long startTimestamp, CancellationToken token)
    {
        _file = file;
        _cachedPrefix = cachedPrefix;
        _startTimestamp = startTimestamp;
        _token = token;
        Io.Scope = file.Scope;
        State = LoopState.Incoming;
        // Remark 4: decided per life, before the loop can complete it.
        _mode = ModeFor(file);
        _core.RunContinuationsAsynchronously = _mode == ContinuationMode.Queued;
        if (token.CanBeCanceled)
        {
            // Registered before the loop sees the operation: no window where a cancel has nothing to name (remark 3).
            _registration = token.UnsafeRegister(static state => ((AsyncOperation)state!).OnCanceled(), this);
        }
    }

    /// <summary>The loop's own code (work run by the loop, or a loop-mode continuation) gets the loop mode, for every
    /// file; an inline continuation running on the loop thread is not the loop's code, and gets what its file asks
    /// for, as any other caller does.</summary>
    private static ContinuationMode ModeFor(AsyncFile file)
    {
        if (file.Loop.IsLoopCode)
        {
            return ContinuationMode.Loop;
        }
        return file.InlineCompletions ? ContinuationMode.Inline : ContinuationMode.Queued;
    }

    /// <summary>This life is being completed off its engine thread (a loop that stopped, cancelling what was still
    /// queued, on the caller's thread): whatever its mode, its continuation must not run inline on a thread that
    /// is in the middle of a call of its own. The completer writes this just before it completes; nothing else
    /// writes the flag for a life that is not in the loop mode.</summary>
    public void QueueContinuation()
    {
        _mode = ContinuationMode.Queued;
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>Readies a carrier for its next fsync of <paramref name="file"/>: described, bound to the file's flush
    /// scope, counted in the file's flight, and holding a reference on its handle until
    /// <see cref="FlushGroup.CarrierDone"/> (loop thread only). False, with nothing taken, when the handle refuses a
    /// reference: the caller closed <see cref="AioFile.Handle"/> itself.</summary>
    public bool TryBeginCarrier(AsyncFile file, bool dataOnly)
    {
        _file = file;
        _engineCancelAsked = false;
        Io.SetFlush(file.Handle, file.Traits, dataOnly);
        Io.Scope = file.Scope;
        try
        {
            Io.Pin(); // a flush has no buffers: this takes the handle reference alone (see FlushGroup, remark 3)
        }
        catch (ObjectDisposedException)
        {
            // On the loop thread: an exception here would end the process. The flushes it was to answer fail instead.
            // (Pin releases what it took before it throws.)
            return false;
        }
        // Counted, so that Dispose waits for the kernel's fsync even when every flush it answers was cancelled.
        file.EnterWhileCounted();
        return true;
    }

    /// <summary>Readies a write carrier to write its riders' buffers, in order, as one vectored write of
    /// <paramref name="file"/> from the first rider's offset: described, bound to the file's flush scope, and holding
    /// a reference on the handle and pins on the buffers (its own, beside the riders') until the loop is done with it
    /// (loop thread only; the riders stay counted in the file's flight meanwhile). False, with no pin or reference
    /// taken, when the handle refuses a reference (the caller closed it) or a buffer refuses a second pin; the loop
    /// then finishes it as a gathered write that wrote nothing.</summary>
    public bool TryBeginWriteCarrier(AsyncFile file)
    {
        Debug.Assert(IsWriteCarrier && CarrierRiders!.Count > 1);
        _file = file;
        _engineCancelAsked = false;
        AsyncOperation first = CarrierRiders!.First!;
        Memory<byte>[] segments = Io.RentSegments(CarrierRiders.Count);
        int count = 0;
        for (AsyncOperation? rider = first; rider is not null; rider = rider.Next)
        {
            segments[count++] = rider.Io.Segment(0);
        }
        Io.SetVectored(OperationKind.Write, file.Handle, file.Traits, first.Io.Offset, count, first.Io.MemoryAlignment);
        Io.Scope = file.Scope;
        CarrierIssueNumber = long.MaxValue; // not in the engine yet: no fsync can have waited for it (EngineLoop.NoteStarted)
        try
        {
            Io.Pin();
        }
#pragma warning disable CA1031 // any failure: each rider was pinned on its own already, and goes on its own
        catch (Exception)
#pragma warning restore CA1031
        {
            // The caller closed the handle (ObjectDisposedException), or a rider's MemoryManager refused a second pin
            // (or gave one the direct-I/O rule refuses): Pin released what it took; the loop sends the riders on
            // their own, each with its own pins and handle reference.
            return false;
        }
        return true;
    }

    /// <summary>A write carrier the loop is done with, its pins already released (EngineLoop.FinishGathered, their one
    /// owner, before any rider is answered): lets go of the buffers.</summary>
    public void EndWriteCarrier()
    {
        Debug.Assert(IsWriteCarrier && CarrierRiders!.IsEmpty);
        Io.Clear();
        _file = null;
        _engineCancelAsked = false;
        CarrierIssueNumber = 0;
        State = LoopState.Idle;
    }

    /// <summary>The loop asked the engine to cancel this operation (its thread only, before the engine is asked): an
    /// ECANCELED that comes later — the kernel stopped it after answering "running" — is then a cancellation, not an
    /// I/O error, also when it was the file's Dispose that asked and no token fired.</summary>
    public void NoteEngineCancelAsked() => _engineCancelAsked = true;

    private void OnCanceled()
    {
        Volatile.Write(ref _cancelRequested, 1);
        _file!.Loop.RequestCancel(this, Version);
    }

    /// <summary>
    /// Finishes the operation with the engine's answer (bytes, -errno, or <see cref="OperationResult.Canceled"/>).
    /// Called exactly once, by the loop, when the kernel is done with the buffers. Releases everything first, then
    /// publishes the result.
    /// </summary>
    public void Complete(long result)
    {
        // Dispose (not Unregister): waits for a cancellation callback running right now, so that it cannot act on
        // this object after it has gone back to the pool.
        _registration.Dispose();
        _registration = default;
        Io.Unpin();
        if (_cachedPrefix > 0)
        {
            // The rest of a read the page cache served in part: the caller gets every byte read, and an error or a
            // cancellation of the rest leaves a short read (as pread would), not an exception that hides the data.
            result = result >= 0 ? result + _cachedPrefix : _cachedPrefix;
        }
        AsyncFile file = _file!;
        file.OperationEnded();
        if (result >= 0)
        {
            _core.SetResult((int)result);
        }
        else if (result == OperationResult.Canceled
            || (result is -Errno.ECANCELED or -Errno.EINTR && _token.IsCancellationRequested)
            || (result == -Errno.ECANCELED && _engineCancelAsked))
        {
            _core.SetException(new OperationCanceledException(_token));
        }
        else
        {
            int errno = (int)-result;
            _core.SetException(Errors.IOExceptionFor(errno, file.Path, Io.Kind switch
            {
                OperationKind.Read => "read failed",
                OperationKind.Write => "write failed",
                _ => "flush failed",
            }));
        }
    }

    /// <summary>Undoes the describing and pinning of an operation that never reached a loop (its call threw).</summary>
    public void Abandon()
    {
        Io.Unpin();
        Recycle();
    }

    // ------------------------------------------------------------------------------------------------------------
    // The consumer's side (remark 2).

    public int GetResult(short token)
    {
        Claim(token);
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            FileAioMetrics.RecordLatency(_startTimestamp);
            Recycle();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if (_mode == ContinuationMode.Loop)
        {
            if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0 && AwaitedOnItsLoop(token))
            {
                // Remark 4: the loop completes this operation on this very thread, with this same context current, so
                // resuming "on the captured context" is resuming inline. The runtime's core would instead always Post
                // to a captured context (allocating a tuple each time, and costing a turn): leave the context out.
                flags &= ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext;
            }
            else if (_file?.Loop is { } loop && !loop.IsLoopThread)
            {
                // Begun on the loop, but awaited elsewhere (the ValueTask was handed to a pool thread): were it run
                // inline, that thread's code would resume on the engine thread. Queue it as any other operation does. The token is checked first, so a
                // stale ValueTask cannot change the flags of a later life. The store comes before the core's
                // compare-and-swap of its continuation (a full fence), and the loop reads the flag only after its own
                // read of that continuation: it either sees the flag, or completed first and the core queues the
                // continuation itself.
                _core.GetStatus(token);
                _core.RunContinuationsAsynchronously = true;
            }
        }
        _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>The caller is the loop thread of this operation's file, with the loop's own context (or scheduler)
    /// current, and the operation is still pending — which, for an operation begun on that thread, stays true until
    /// the thread itself completes it (nothing else completes it, see EngineLoop.Submit).</summary>
    private bool AwaitedOnItsLoop(short token)
    {
        // A misused ValueTask (a stale token from another thread) may find the operation recycled: leave the flags
        // alone, and let the core's token check answer it as usual.
        if (_file?.Loop is not { } loop || !loop.IsLoopThread || _core.GetStatus(token) != ValueTaskSourceStatus.Pending)
        {
            return false;
        }
        SynchronizationContext? context = SynchronizationContext.Current;
        return ReferenceEquals(context, loop.Context) || (context is null && ReferenceEquals(TaskScheduler.Current, loop.Scheduler));
    }

    /// <summary>Makes the caller this life's one consumer, or throws without changing anything.</summary>
    private void Claim(short token)
    {
        int lease = Volatile.Read(ref _lease);
        if ((ushort)lease != (ushort)token || (lease & ConsumedBit) != 0)
        {
            ThrowMisuse("This ValueTask's result was already read, or the ValueTask belongs to an earlier operation: a ValueTask may be consumed once.");
        }
        if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            ThrowMisuse("The operation has not completed: await the ValueTask (or check IsCompleted) before reading its result.");
        }
        if (Interlocked.CompareExchange(ref _lease, lease | ConsumedBit, lease) != lease)
        {
            ThrowMisuse("This ValueTask's result was already read: a ValueTask may be consumed once.");
        }
    }

    private static void ThrowMisuse(string message) => throw new InvalidOperationException(message);

    private void Recycle()
    {
        _file = null;
        _token = default;
        _cachedPrefix = 0;
        _startTimestamp = 0;
        Volatile.Write(ref _cancelRequested, 0);
        _engineCancelAsked = false;
        WriteAlone = false;
        State = LoopState.Idle;
        _mode = ContinuationMode.Queued;
        _core.RunContinuationsAsynchronously = true;
        Io.Clear();
        _core.Reset();
        Volatile.Write(ref _lease, (ushort)_core.Version); // the next life's token, not yet consumed
        _pool!.Return(this); // a carrier is never consumed, so never recycled
    }

    [Conditional("DEBUG")]
    public void AssertIdle() => Debug.Assert(_file is null && State == LoopState.Idle, "A pooled operation must be idle.");
}

/// <summary>Where an <see cref="AsyncOperation"/> is, as its engine loop sees it.</summary>
internal enum LoopState : byte
{
    /// <summary>In the pool, or being described.</summary>
    Idle,

    /// <summary>Handed to the loop, not yet taken from its queue.</summary>
    Incoming,

    /// <summary>Taken, waiting for room in the engine.</summary>
    Backlog,

    /// <summary>In the engine (and perhaps the kernel).</summary>
    InEngine,

    /// <summary>Completed; its result is published or about to be.</summary>
    Done,

    /// <summary>A flush in its file's <see cref="FlushGroup"/>, to be answered by the group's queued or running fsync.</summary>
    FlushRiding,

    /// <summary>A flush in its file's <see cref="FlushGroup"/>, waiting for the fsync after the running one.</summary>
    FlushWaiting,

    /// <summary>A write carried by a gathered write (one of its <see cref="AsyncOperation.CarrierRiders"/>): it is
    /// answered when that one completes, and cannot be cancelled on its own (<see cref="WriteGather"/>).</summary>
    WriteRiding,
}
