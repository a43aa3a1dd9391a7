using System.Diagnostics;
using FileAio.Engines;
using Microsoft.Win32.SafeHandles;

namespace FileAio;

/// <summary>
/// A completion context (IPRT's <c>RTFILEAIOCTX</c>): requests are submitted to it in batches and their completions
/// collected with <see cref="Wait"/>.
/// </summary>
/// <remarks>
/// <para>Threading: <see cref="Submit"/>, <see cref="Wakeup"/> and <see cref="AioRequest.Cancel"/> may be called from
/// any number of threads; one thread at a time may be in <see cref="Wait"/>, concurrently with them.
/// <see cref="Dispose"/> may be called from any thread: it interrupts a running Wait, lets the calls in progress
/// finish, then cancels and reaps what is outstanding. Calls made after Dispose began throw
/// <see cref="ObjectDisposedException"/>.</para>
/// <para>Ownership: this class owns request state and accounting (<see cref="Outstanding"/>); the engine behind it
/// (see <see cref="Engine"/>) only moves operations to and from the kernel.</para>
/// </remarks>
public sealed partial class AioContext : IDisposable
{
    /// <summary>Pass as capacity to get the engine's real maximum (IPRT's <c>RTFILEAIO_UNLIMITED_REQS</c>); any
    /// capacity above the maximum is lowered to it, never rejected.</summary>
    public const int UnlimitedCapacity = int.MaxValue;

    private static readonly AioContextOptions s_defaultOptions = new();

    private readonly IAioEngine _engine;
    private readonly FlushScope _scope = new();   // one scope: a flush waits for every write submitted to the context (SPEC §3)
    private IoOperation[] _submitScratch = [];    // the batch's operations, for the engine (under _submitLock)
    private IoOperation[] _reapScratch = [];      // what the engine reaps, for Wait (one waiter at a time)
    private readonly bool _waitWithoutPendingRequests;
    private readonly Lock _submitLock = new();   // one Submit at a time reaches the engine (SPEC §2: any thread may call it)
    private int _outstanding;                    // Submitted requests of this context: accepted, not yet reaped or cancelled
    private int _waiterActive;                   // 1 while a thread is inside Wait
    private LifetimeGuard _lifetime;
    private readonly int _ownerThreadId;                // the only thread allowed to call, when SingleThreaded (else 0)
    private readonly ManualResetEventSlim _teardownDone = new();  // set when the first Dispose has finished

    private AioContext(IAioEngine engine, AioEngineKind kind, int capacity, bool waitWithoutPendingRequests, int ownerThreadId)
    {
        _ownerThreadId = ownerThreadId;
        _engine = engine;
        Engine = kind;
        Capacity = capacity;
        _waitWithoutPendingRequests = waitWithoutPendingRequests;
    }

    /// <summary>
    /// Creates a context able to hold <paramref name="capacity"/> outstanding requests (lowered to the engine's
    /// maximum; <see cref="UnlimitedCapacity"/> asks for exactly that).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is 0 or negative.</exception>
    /// <exception cref="NotSupportedException">The engine named in <paramref name="options"/> cannot run here; the
    /// message says why.</exception>
    public static AioContext Create(int capacity, AioContextOptions? options = null)
    {
        options ??= s_defaultOptions;
        return CreateWithSettings(capacity, options, new EngineSettings { Owned = options.SingleThreaded });
    }

    /// <summary>Creates a context over an engine set up with <paramref name="settings"/>: for tests that run the
    /// contract over an engine variant Auto would not pick here (io_uring with its pre-6.0 cancel path, tiny rings).</summary>
    internal static AioContext CreateWithSettings(int capacity, AioContextOptions options, EngineSettings settings)
    {
        if (capacity <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(capacity), capacity,
                "A context needs room for at least one request; use AioContext.UnlimitedCapacity for the engine's maximum.");
        }
        AioLimits limits = EngineFactory.GetLimits(options.Engine);
        if (!limits.IsSupported)
        {
            throw new NotSupportedException($"The {limits.Engine} engine cannot run here: {limits.UnsupportedReason}");
        }
        int effectiveCapacity = Math.Min(capacity, limits.MaxOutstanding);
        // Under Auto, an engine whose probe passed but which cannot be set up now (Linux AIO's machine-wide budget
        // used up, say) gives way to the next one.
        IAioEngine engine = EngineFactory.Create(options.Engine, effectiveCapacity, settings, out AioEngineKind created,
            out AioLimits[] passedOver, fallBack: true);
        return new AioContext(engine, created, effectiveCapacity, options.WaitWithoutPendingRequests,
            settings.Owned ? Environment.CurrentManagedThreadId : 0)
        {
            PassedOverEngines = passedOver,
        };
    }

    /// <summary>Tests: a shared context over an engine built by hand (one over a test's wrapper of a platform, say).
    /// The context owns it from here on.</summary>
    internal static AioContext CreateOverEngine(IAioEngine engine, AioEngineKind kind, int capacity) =>
        new(engine, kind, capacity, waitWithoutPendingRequests: false, ownerThreadId: 0);

    /// <summary>What <paramref name="engine"/> can do on this machine (IPRT's <c>RTFileAioGetLimits</c>). For
    /// <see cref="AioEngineKind.Auto"/>, the limits of the engine Auto picks.</summary>
    public static AioLimits GetLimits(AioEngineKind engine = AioEngineKind.Auto) => EngineFactory.GetLimits(engine);

    /// <summary>The engine that really runs this context (never <see cref="AioEngineKind.Auto"/>).</summary>
    public AioEngineKind Engine { get; }

    /// <summary>Under <see cref="AioEngineKind.Auto"/>, the engines Auto prefers to <see cref="Engine"/> that cannot
    /// run here, each with <see cref="AioLimits.UnsupportedReason"/> saying why (io_uring blocked by a seccomp filter,
    /// say). Empty when an engine was named, or Auto's first choice runs.</summary>
    public IReadOnlyList<AioLimits> PassedOverEngines { get; private init; } = [];

    /// <summary>The most requests this context holds outstanding at once.</summary>
    public int Capacity { get; }

    /// <summary>Requests submitted and not yet reported by <see cref="Wait"/> or cancelled. Safe from any thread.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Tells the context that <paramref name="file"/> will be used with it. Accepted by every engine; a no-op
    /// where the engine does not need it (IPRT's <c>RTFileAioCtxAssociateWithFile</c>).</summary>
    public void AssociateWithFile(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.IsClosed || file.IsInvalid)
        {
            ThrowHelper.ThrowArgumentException("The file handle is closed or invalid.", nameof(file));
        }
        Enter();
        try
        {
            _engine.AssociateWithFile(file);
        }
        finally
        {
            _lifetime.Exit();
        }
    }

    /// <summary>Tells the context that <paramref name="buffer"/> will be used for its transfers. Engines that can register
    /// memory with the kernel (io_uring's fixed buffers) do so, which spares the kernel pinning its pages on every
    /// direct transfer; the buffer then stays pinned until the context is disposed. A no-op elsewhere.</summary>
    /// <exception cref="ArgumentException">The buffer is empty.</exception>
    public void AssociateWithBuffer(Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            ThrowHelper.ThrowArgumentException("Only a non-empty buffer can be associated.", nameof(buffer));
        }
        Enter();
        try
        {
            _engine.AssociateWithBuffer(buffer);
        }
        finally
        {
            _lifetime.Exit();
        }
    }

    /// <summary>
    /// Hands Prepared requests to the kernel, in order, and returns how many were accepted.
    /// </summary>
    /// <remarks>
    /// <para>Every element is checked before any is submitted: if one is null, disposed, not Prepared, or appears twice,
    /// this throws and every request keeps its state.</para>
    /// <para>When the context is full (or the host's queue is), the requests that fit are accepted and the rest stay
    /// Prepared, ready to be submitted again: the return value says how many went. A request the host refuses outright
    /// at submit time becomes Completed with that error and is not counted; those after it stay Prepared. Either way
    /// each request's <see cref="AioRequest.State"/> tells what happened to it.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="requests"/> is empty, or an element is null.</exception>
    /// <exception cref="ObjectDisposedException">A request or the context was disposed.</exception>
    /// <exception cref="InvalidOperationException">A request is not Prepared, or appears twice.</exception>
    public int Submit(ReadOnlySpan<AioRequest> requests)
    {
        if (requests.IsEmpty)
        {
            ThrowHelper.ThrowArgumentException("Submit needs at least one request.", nameof(requests));
        }
        Enter();
        try
        {
            ValidateBatch(requests);
            lock (_submitLock)
            {
                if (_lifetime.IsDisposing)
                {
                    ThrowHelper.ThrowObjectDisposed(this); // TryClose won the submit lock first
                }
                return SubmitLocked(requests);
            }
        }
        finally
        {
            _lifetime.Exit();
        }
    }

    /// <summary>
    /// Collects finished requests into <paramref name="completed"/>: returns once at least
    /// <paramref name="minCompletions"/> (0 means 1) are collected, the timeout expires, or <see cref="Wakeup"/> is
    /// called. Every reason may come with completions; each collected request is now Completed and is reported by
    /// exactly one Wait.
    /// </summary>
    /// <param name="minCompletions">How many completions to wait for; 0 is taken as 1.</param>
    /// <param name="timeout"><see cref="Timeout.InfiniteTimeSpan"/> waits for ever; <see cref="TimeSpan.Zero"/> polls.</param>
    /// <param name="completed">Receives the finished requests; any length.</param>
    /// <returns>How many entries of <paramref name="completed"/> were filled, and why the call returned.
    /// <see cref="AioWaitReason.NoRequests"/> at once when nothing is outstanding (unless the context was created with
    /// <see cref="AioContextOptions.WaitWithoutPendingRequests"/>); a pending wakeup wins over it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="completed"/> is empty, <paramref name="minCompletions"/>
    /// is negative or larger than it, or the timeout is negative (other than infinite).</exception>
    /// <exception cref="InvalidOperationException">Another thread is in Wait on this context.</exception>
    public AioWaitResult Wait(int minCompletions, TimeSpan timeout, Span<AioRequest> completed)
    {
        if (completed.IsEmpty)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(completed), 0, "Wait needs room for at least one completion.");
        }
        if (minCompletions < 0 || minCompletions > completed.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minCompletions), minCompletions,
                $"minCompletions must be between 0 and the length of the completion span ({completed.Length}).");
        }
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(timeout), timeout, "The timeout must be zero, positive, or Timeout.InfiniteTimeSpan.");
        }

        Enter();
        try
        {
            if (Interlocked.CompareExchange(ref _waiterActive, 1, 0) != 0)
            {
                ThrowHelper.ThrowInvalidOperation("Another thread is already in Wait on this context; only one may wait at a time.");
            }
            try
            {
                // Nothing outstanding: one poll, so that a pending wakeup wins over NoRequests (and a request that a
                // concurrent Submit made outstanding meanwhile is not overlooked).
                bool nothingOutstanding = !_waitWithoutPendingRequests && Volatile.Read(ref _outstanding) == 0;
                Deadline deadline = nothingOutstanding ? Deadline.Expired : Deadline.After(timeout);
                int wanted = Math.Max(1, minCompletions);
                if (_reapScratch.Length < completed.Length)
                {
                    _reapScratch = new IoOperation[completed.Length];
                }
                int count = _engine.Reap(wanted, deadline, _reapScratch.AsSpan(0, completed.Length), out bool interrupted);
                for (int i = 0; i < count; i++)
                {
                    IoOperation operation = _reapScratch[i];
                    _reapScratch[i] = null!;
                    var request = (AioRequest)operation.Owner;
                    Finish(request, operation.Result);
                    completed[i] = request;
                }
                AioWaitReason reason = interrupted ? AioWaitReason.Interrupted
                    : count >= wanted ? AioWaitReason.Completed
                    : nothingOutstanding && count == 0 ? AioWaitReason.NoRequests
                    : AioWaitReason.TimedOut;
                AssertInvariants();
                return new AioWaitResult(count, reason);
            }
            finally
            {
                Volatile.Write(ref _waiterActive, 0);
            }
        }
        finally
        {
            _lifetime.Exit();
        }
    }

    /// <summary>Makes the current <see cref="Wait"/> — or the next one, if none is running — return
    /// <see cref="AioWaitReason.Interrupted"/>. Safe from any thread. Each wakeup is consumed by exactly one Wait;
    /// several before any Wait may coalesce into one.</summary>
    public void Wakeup()
    {
        if (!_lifetime.TryEnter())
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
        try
        {
            _engine.Wakeup();
        }
        finally
        {
            _lifetime.Exit();
        }
    }

    /// <summary>Disposes the context only when nothing is outstanding (IPRT's <c>RTFileAioCtxDestroy</c>, which answers
    /// BUSY). Returns false, and changes nothing, when requests are outstanding.</summary>
    public bool TryClose()
    {
        CheckOwnerThread();
        // Decided under the submit lock, which Submit also holds while it checks for teardown and hands requests over:
        // either a concurrent Submit comes first (and TryClose answers busy) or it comes after (and throws
        // ObjectDisposedException). Nothing submitted is torn down behind a "true".
        lock (_submitLock)
        {
            if (Volatile.Read(ref _outstanding) > 0)
            {
                return false;
            }
            if (!_lifetime.TryBeginDispose())
            {
                _teardownDone.Wait();
                return true;
            }
        }
        TearDown();
        return true;
    }

    /// <summary>
    /// Tears the context down without losing anything: interrupts a running Wait, cancels every outstanding request it
    /// can (they become Completed with status Canceled), waits until the kernel owes nothing (the others become Completed
    /// with their real result), then releases the engine. Idempotent; never throws, except on a SingleThreaded context
    /// called from another thread (InvalidOperationException: only its own thread can drain its ring). A second caller returns only once
    /// the first has finished, so after any Dispose returns no buffer of this context is in the kernel's hands.
    /// </summary>
    public void Dispose()
    {
        CheckOwnerThread(); // a SingleThreaded ring can only be drained by its own thread
        if (!_lifetime.TryBeginDispose())
        {
            _teardownDone.Wait();
            return;
        }
        TearDown();
    }

    private void TearDown()
    {
        try
        {
            _engine.Wakeup();                  // a Wait blocked in the engine returns and leaves
            _lifetime.WaitForCallsToLeave();   // no Submit, Wait or Cancel runs from here on

            var canceled = new List<IoOperation>();
            var completed = new List<IoOperation>();
            _engine.CancelAllAndDrain(canceled, completed);
            foreach (IoOperation operation in canceled)
            {
                Finish((AioRequest)operation.Owner, OperationResult.Canceled);
            }
            foreach (IoOperation operation in completed)
            {
                Finish((AioRequest)operation.Owner, operation.Result);
            }
            Debug.Assert(Volatile.Read(ref _outstanding) == 0, "Every outstanding request was cancelled or reaped.");
            _engine.Dispose();
        }
        catch (Exception e)
        {
            // The kernel may still own buffers we cannot account for: carrying on could let it write freed memory.
            Environment.FailFast("FileAio: a context could not be torn down safely.", e);
        }
        finally
        {
            _teardownDone.Set();
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Called by <see cref="AioRequest.Cancel"/> for a request Submitted to this context.</summary>
    internal AioCancelResult Cancel(AioRequest request)
    {
        CheckOwnerThread();
        if (!_lifetime.TryEnter())
        {
            // Dispose is finishing every request of this context: the caller must treat the buffer as busy until the
            // request reads Completed, exactly as for a running operation.
            return AioCancelResult.InProgress;
        }
        try
        {
            // Under the submit lock: a Submit publishes Owner before its engine has taken the request, and a request
            // reaped and submitted again must not meet a cancel aimed at its earlier life while its engine is taking
            // it in. Holding the lock, the engine is asked only about a request it holds now, in its final state.
            // Engine cancels are short (the kernel answers at once), so submitters wait little.
            lock (_submitLock)
            {
                if (!ReferenceEquals(Volatile.Read(ref request.Owner), this) || request.State != AioRequestState.Submitted)
                {
                    return AioCancelResult.NotSubmitted; // finished (and perhaps resubmitted elsewhere) meanwhile
                }
                request.NoteCancelAsked(); // before the engine asks the kernel: a completion it causes comes after
                switch (_engine.Cancel(request.Operation))
                {
                    case EngineCancelResult.Canceled:
                        Finish(request, OperationResult.Canceled);
                        AssertInvariants();
                        return AioCancelResult.Canceled;
                    case EngineCancelResult.AlreadyCompleted:
                        return AioCancelResult.AlreadyCompleted;
                    case EngineCancelResult.InProgress:
                        return AioCancelResult.InProgress;
                    default:
                        return AioCancelResult.NotSubmitted; // another caller cancelled it first, or it moved on
                }
            }
        }
        finally
        {
            _lifetime.Exit();
        }
    }

    private void Enter()
    {
        CheckOwnerThread();
        if (!_lifetime.TryEnter())
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
    }

    /// <summary>A SingleThreaded context accepts calls (but Wakeup) from its creating thread only.</summary>
    private void CheckOwnerThread()
    {
        if (_ownerThreadId != 0 && Environment.CurrentManagedThreadId != _ownerThreadId)
        {
            ThrowHelper.ThrowInvalidOperation(
                "This context was created SingleThreaded: only the thread that created it may call it (Wakeup excepted).");
        }
    }

    /// <summary>Ends a request that left the engine: no longer outstanding, then Completed with its result.</summary>
    private void Finish(AioRequest request, long engineResult)
    {
        // The request first: whoever sees Outstanding drop (a thread waiting for the context to go idle) sees the
        // request Completed. A resubmit of it racing the decrement may find the context full for a moment (SPEC §2).
        request.Complete(engineResult);
        Interlocked.Decrement(ref _outstanding);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        int outstanding = Volatile.Read(ref _outstanding);
        Debug.Assert(outstanding >= 0 && outstanding <= Capacity, $"Outstanding {outstanding} must stay within 0..{Capacity}.");
    }
}
