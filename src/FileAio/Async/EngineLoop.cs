using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using FileAio.Engines;

namespace FileAio.Async;

/// <summary>
/// One thread that owns one engine and runs async operations on it: the async host's engine thread. Any engine
/// serves it through the same <see cref="IAioEngine"/> calls a context makes — Start, Reap, Cancel — from this one
/// thread, so io_uring gets an owned ring (SINGLE_ISSUER, DEFER_TASKRUN) and submits and reaps in one enter per turn.
/// </summary>
/// <remarks>
/// <para>1. Ownership. The engine, the backlog and the list of operations in the engine belong to the loop thread
/// alone: no locks. Other threads reach it through two lock-free queues — operations (<c>_incoming</c>) and messages
/// (cancel one operation, cancel a closing file's operations) — and a wakeup.</para>
/// <para>2. A turn: messages first (cancels are cheap and free the device), then new work into the engine while it
/// has room, then one Reap, which submits what was started and collects what finished, then completions. Under load
/// the thread never sleeps and producers never make a system call.</para>
/// <para>3. Sleeping without losing work. Before a blocking Reap the thread sets <c>_sleeping</c>, fences, and looks
/// at the queues once more; a producer enqueues, fences, then swaps <c>_sleeping</c> to 0 and, if it was 1, wakes the
/// engine. Either the thread sees the new work, or the producer sees the flag and wakes it (the Dekker pattern, full
/// fences on both sides).</para>
/// <para>4. Completion runs <see cref="AsyncOperation.Complete"/> here, which runs no user code: continuations go to
/// the thread pool — except in the loop mode (remark 6) and the inline mode (remark 7).</para>
/// <para>5. A fatal error in the loop fails the process (as the runtime's socket engine does): a silent stop would
/// leave every caller awaiting for ever.</para>
/// <para>6. The loop mode (<see cref="AioLoop"/>), the one opt-in exception to "runs no user code". Work posted to the
/// loop's <see cref="LoopSynchronizationContext"/> or <see cref="LoopScheduler"/> waits in <c>_work</c> (a third
/// lock-free queue, woken as the other two) and runs at the start of a turn. An operation issued <em>on</em> the loop
/// thread for a file of this loop skips the queue, the fence and the wakeup: <see cref="Submit"/> puts it straight into
/// the backlog, which the same turn's StartWork moves into the engine, so everything that turn's code issued is
/// submitted by the turn's one Reap (one io_uring_enter). Its continuation runs inline here when it completes
/// (<see cref="ContinuationMode.Loop"/>), in completion order (the writes of a gathered write first among what one
/// reap gave, in their order: WriteGather, remark 3); user code run that way can only append to the
/// backlog and to the queues, so the loop's walks over its lists stay valid. At stop the loop keeps running queued
/// work until there is none; work posted after that runs on the thread pool, one item at a time and in order, so
/// nothing posted to a stopped loop is left waiting for ever. An operation that code on the loop thread begins once the
/// stop has begun never enters the backlog the stop is draining: it is cancelled as soon as that code returns, and its
/// continuation is queued to the thread pool (<see cref="RefuseStartedWhileStopping"/>), so that code answering every
/// cancellation with a new operation cannot keep the stop going for ever.</para>
/// <para>7. The inline mode (<see cref="AioFileOptions.InlineCompletions"/>), the other opt-in exception: an operation
/// of such a file begun anywhere but by the loop's own code runs its continuation inline here too
/// (<see cref="ContinuationMode.Inline"/>), in completion order, under the same rules as remark 6 — but as a stranger
/// to the loop: for the call the thread has no synchronization context (<c>_inlineCompletion</c> set), so the
/// continuation's next awaits capture nothing of the loop's and do not move its code onto the loop; operations it
/// begins here still take the direct path into the backlog (<see cref="Submit"/>), and get what their own file asks
/// for (<see cref="IsLoopCode"/> is false), and a read it begins skips the page-cache fast path
/// (<see cref="InInlineCompletion"/>), so a flow whose reads all hit the cache still gives the thread back once per
/// read. An exception escaping such a continuation is raised on the thread pool, as in remark 6.</para>
/// <para>8. After each piece of user code run here (queued work, a loop-mode or inline-mode continuation) the thread
/// gets back what it had before: the loop's context, and the thread's own, empty ExecutionContext — code that set an
/// AsyncLocal, or suppressed the flow, and did not undo it (a raw continuation may) must not hand that to the code run
/// next, as the thread pool resets a thread's ExecutionContext after each work item (<see cref="AfterUserCode"/>).</para>
/// </remarks>
internal sealed class EngineLoop : IDisposable
{
    /// <summary>Operations in the engine at once. Beyond it they wait in the loop; 1024 covers deep queues on fast
    /// devices while keeping an io_uring CQ (2 × this) small.</summary>
    public const int EngineCapacity = 1024;

    /// <summary>Operations started per Start call and reaped per Reap call.</summary>
    private const int BatchSize = 256;

    /// <summary>
    /// Completions taken per turn while the engine's completions come from a device rather than from the turn's own
    /// submissions. Taking every completion that is ready and only then submitting what their continuations began sends
    /// the device its work in convoys: with 32 reads in flight, waves of ~16. This VM's virtual disk serves convoys
    /// slower than a steady queue (so did Linux AIO's reaping, docs/benchmarks.md, 2026-12-03), and fio reaps as the
    /// completions come. In one alternating run of five rounds (4 KiB O_DIRECT random reads, 32 in flight, the loop
    /// mode), taking at most 256, 16 and 8 per turn gave 0.92×, 0.98× and 1.05× fio at 4.0, 3.9 and 4.1 µs of CPU per
    /// read; page-cached, where the reads complete in the very enter that submits them and a wave costs the device
    /// nothing, the limit only adds system calls (1.00×, 0.98×, 0.94× fio), so it applies only when most of the last
    /// turn's completions were of reads started in an earlier turn. Reads only: a write-ahead log's appenders on a loop
    /// want the opposite — all of a round's write completions in one turn, so that the flushes their continuations
    /// begin share one fsync (FlushGroup) — and lost a fifth of their commits/s with writes capped too (16 appenders,
    /// five alternating rounds, medians 38.6K against 47.1K).
    /// </summary>
    private const int DeviceWave = 8;

    /// <summary>Reaps in a row that may stop at <see cref="DeviceWave"/> with more completions ready, after which one
    /// takes up to <see cref="BatchSize"/>. Engines do not hand out what is ready oldest first (io_uring takes its ring
    /// before the completions a canceller parked), so a device that keeps more than a wave ready every turn could
    /// otherwise hold one completion back for as long as it keeps up; a full reap now and then bounds the wait.</summary>
    private const int MaxCappedReaps = 4;

    private readonly Thread _thread;
    private readonly Func<IAioEngine> _createEngine;
    private IAioEngine _engine = null!;                        // created on the loop thread (an owned engine's rule)
    private ExceptionDispatchInfo? _setupFailure;
    private readonly ManualResetEventSlim _setupDone = new();

    private readonly ConcurrentQueue<AsyncOperation> _incoming = new();
    private readonly ConcurrentQueue<Message> _messages = new();
    private readonly ConcurrentQueue<LoopWorkItem> _work = new();   // remark 6
    private volatile bool _workClosed;                              // the thread has ended: posted work goes to the pool
    private int _lateDraining;                                      // 1 while a pool item runs the work posted late
    private int _lateThreadId;                                      // the thread of that pool item, while it runs
    private int _sleeping;
    private volatile bool _stopping;
    private int _wakers;                                       // wakeups under way; int.MinValue added once closed
    private volatile bool _closed;                             // the loop has stopped taking work (Submit cancels it)

    // ---- Loop thread only.
    private readonly OperationList _backlog = new();           // taken, waiting for room in the engine
    private readonly OperationList _inEngine = new();
    private readonly WriteGather _gather = new();              // adjacent writes as one (WriteGather)
    private readonly OperationList _startAgain = new();        // riders a gathered write wrote nothing of (FinishGathered)
    private bool _gathers;                                     // the engine's vectored writes are the kernel's own
    private readonly IoOperation[] _batch = new IoOperation[BatchSize];
    private readonly IoOperation[] _reaped = new IoOperation[BatchSize];
    private long _spinTicks = MaxSpinTicks;
    private int _turn;                                         // Reaps so far (wraps): which turn started an operation
    private int _reapLimit = BatchSize;                        // completions the next Reap may take (DeviceWave)
    private int _cappedReaps;                                  // reaps in a row that stopped at DeviceWave (MaxCappedReaps)
    private bool _moreReady;                                   // the last Reap filled its limit: more may be ready now
    private bool _handedOff;                                   // completions went to other threads since the last missed watch
    private int _threadId;                                     // set first thing on the loop thread, before any Submit
    private bool _inlineCompletion;                            // remark 7: an inline-mode continuation runs right now
    private ExecutionContext _threadContext = null!;           // remark 8: the thread's own (the runtime's default)
    private bool _shuttingDown;                                // Shutdown has begun: Submit refuses (remark 6)
    private bool _engineDisposed;                              // the last step of Shutdown
    private readonly OperationList _startedWhileStopping = new(); // begun by code run here since then, to refuse

    [ThreadStatic]
    private static EngineLoop? t_current;

    // ---- Written by the loop thread, read by the metrics (a torn read is impossible for aligned 64-bit fields).
    private long _completed, _bytes, _errors;
    private long _maxBusyTicks;                                // the metrics take it (and reset it to 0)
    private long _busySince;                                   // start of the busy stretch under way; 0 while it waits

    private readonly record struct Message(AsyncOperation? Operation, short Version, AsyncFile? File);

    private EngineLoop(string name, Func<IAioEngine> createEngine)
    {
        _createEngine = createEngine;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        Scheduler = new LoopScheduler(this);
        Context = new LoopSynchronizationContext(this);
    }

    /// <summary>
    /// Starts a loop thread, which creates its engine with <paramref name="createEngine"/> (on itself: an owned engine
    /// is bound to the thread that creates it), and returns once the engine is ready.
    /// </summary>
    /// <exception cref="Exception">Whatever the engine's creation threw (NotSupportedException with the reason).</exception>
    public static EngineLoop Start(string name, Func<IAioEngine> createEngine)
    {
        var loop = new EngineLoop(name, createEngine);
        loop._thread.UnsafeStart(); // no ExecutionContext: the thread runs no user code
        loop._setupDone.Wait();
        loop._setupDone.Dispose();
        if (loop._setupFailure is { } failure)
        {
            loop._thread.Join();
            failure.Throw();
        }
        FileAioMetrics.Register(loop);
        return loop;
    }

    /// <summary>The engine, for diagnostics and tests (touch it only from tests that know the loop is idle).</summary>
    internal IAioEngine Engine => _engine;

    public long CompletedCount => Volatile.Read(ref _completed);

    public long BytesTransferred => Volatile.Read(ref _bytes);

    public long ErrorCount => Volatile.Read(ref _errors);

    /// <summary>Operations the loop holds (in the engine or waiting for room), as last counted by the loop: a shared
    /// fsync counts once, a gathered write once per write it carries (read while the loop forms or finishes one, a
    /// gathered write may count one less for a moment).</summary>
    public int HeldCount => Math.Max(0, _inEngine.Count + _backlog.Count + _gather.RidingCount - _gather.CarrierCount);

    /// <summary>The thread's name ("FileAio engine N", N its place in its host: not unique across hosts).</summary>
    public string Name => _thread.Name!;

    /// <summary>A number no other loop of the process has: tells loops of different hosts apart in the metrics.</summary>
    public int Id { get; } = Interlocked.Increment(ref s_lastId);

    private static int s_lastId;

    /// <summary>Runs queued tasks on this loop (remark 6).</summary>
    public LoopScheduler Scheduler { get; }

    /// <summary>Current on the loop thread for its whole life (remark 6).</summary>
    public LoopSynchronizationContext Context { get; }

    /// <summary>The public face of this loop (an <see cref="AioLoop"/>), set by its host; typed object because this
    /// layer must not name the public types above it.</summary>
    public object? PublicLoop { get; set; }

    /// <summary>The loop whose thread is calling, or null.</summary>
    public static EngineLoop? Current => t_current;

    /// <summary>Whether the caller is this loop's thread.</summary>
    public bool IsLoopThread => Environment.CurrentManagedThreadId == _threadId;

    /// <summary>Whether the caller is this loop's own code (remark 6): its thread, and not in an inline-mode
    /// continuation (remark 7), which runs there as any caller's code would run on a pool thread. (The flag is the
    /// loop thread's; another thread reads it only after finding it is not that thread.)</summary>
    public bool IsLoopCode => IsLoopThread && !_inlineCompletion;

    /// <summary>Whether the caller is an inline-mode continuation on an engine thread (remark 7).</summary>
    public static bool InInlineCompletion => t_current is { _inlineCompletion: true };

    /// <summary>The longest stretch, in stopwatch ticks, that the loop went without looking at its queues and its
    /// engine since the last call — the loop's lag: time spent running user code (loop mode) and its own batches.
    /// Resets it. A stretch still under way counts for as long as it has lasted so far: a loop blocked right now is
    /// the one this must show, and its stretch would otherwise be noted only once it ended.</summary>
    public long TakeMaxBusyTicks()
    {
        long ended = Interlocked.Exchange(ref _maxBusyTicks, 0);
        long since = Volatile.Read(ref _busySince);
        return since == 0 ? ended : Math.Max(ended, Stopwatch.GetTimestamp() - since);
    }

    // ============================================================================================================
    // Any thread.

    /// <summary>Hands an operation (described, pinned and begun) to the loop. Thread-safe and non-blocking.</summary>
    public void Submit(AsyncOperation operation)
    {
        if (IsLoopThread)
        {
            // Issued by code running on this loop (remarks 6, 7; other callers never run here): the thread is awake and
            // owns the backlog, so no queue, no fence, no wakeup. StartWork takes the backlog first, in order, and a
            // cancel finds the operation there at once.
            if (_shuttingDown)
            {
                // Remark 6: not into the backlog Shutdown is draining — cancelled there, its continuation would run
                // here again and could begin the next one, for ever. Not completed here either: the caller has not
                // awaited it yet, and a completed operation would let it go on, synchronously, on this thread. It is
                // refused once the caller's code has returned (AfterUserCode). Its state stays Incoming, which a cancel
                // leaves alone.
                _startedWhileStopping.AddLast(operation);
                return;
            }
            operation.State = LoopState.Backlog;
            _backlog.AddLast(operation);
            return;
        }
        _incoming.Enqueue(operation);
        // Full fence between the enqueue and the look at _closed; Shutdown sets _closed, fences, then drains the queue:
        // an operation racing a host's Dispose is either drained there or here, never left in the queue.
        Interlocked.MemoryBarrier();
        if (_closed)
        {
            CancelQueuedAfterClose();
            return;
        }
        WakeIfSleeping();
    }

    /// <summary>Completes, cancelled, what is still in the queue of a loop that has stopped (the kernel never saw it).
    /// Any thread; each operation is taken from the queue once.</summary>
    private void CancelQueuedAfterClose()
    {
        while (_incoming.TryDequeue(out AsyncOperation? late))
        {
            late.State = LoopState.Done;
            late.QueueContinuation(); // this is some caller's thread, inside its call: not where an inline one may run
            late.Complete(OperationResult.Canceled);
        }
    }

    /// <summary>Asks the loop to cancel <paramref name="operation"/> if it is still in that life
    /// (<paramref name="version"/>); it then completes, cancelled or not, as usual.</summary>
    public void RequestCancel(AsyncOperation operation, short version)
    {
        _messages.Enqueue(new Message(operation, version, null));
        WakeIfSleeping();
    }

    /// <summary>Asks the loop to cancel every operation of <paramref name="file"/> it holds (the file is closing: its
    /// operations still in the queue are cancelled when the loop takes them).</summary>
    public void CancelFile(AsyncFile file)
    {
        _messages.Enqueue(new Message(null, 0, file));
        WakeIfSleeping();
    }

    /// <summary>
    /// Has the engine forget <paramref name="file"/>, whose operations have all ended, then completes its close
    /// (<see cref="AsyncFile.CompleteClose"/>). Only the loop thread may call its engine: called there (a close in code
    /// the loop runs), it happens now, so that a Dispose there with nothing in flight returns at once; from any other
    /// thread it is posted to the loop's next turn. Once the thread has ended (the engine is gone, and its
    /// registrations with it) the close completes wherever the posted work runs. Thread-safe and non-blocking.
    /// </summary>
    public void ForgetFile(AsyncFile file)
    {
        if (IsLoopThread)
        {
            ForgetOnLoopThread(file);
        }
        else
        {
            Post(new LoopWorkItem(s_forgetFile, file));
        }
    }

    private static readonly SendOrPostCallback s_forgetFile = static state =>
    {
        var file = (AsyncFile)state!;
        file.Loop.ForgetOnLoopThread(file);
    };

    private void ForgetOnLoopThread(AsyncFile file)
    {
        try
        {
            if (IsLoopThread && !_engineDisposed)
            {
                _engine.ForgetFile(file.Handle);
            }
        }
        finally
        {
            file.CompleteClose();
        }
    }

    /// <summary>Queues user code to run on the loop thread (remark 6). Thread-safe and non-blocking; after the thread
    /// has ended, the work runs on the thread pool instead.</summary>
    public void Post(LoopWorkItem work)
    {
        _work.Enqueue(work);
        // Full fence between the enqueue and the look at _workClosed; the loop sets the flag, fences, then hands what
        // is queued to the pool: the work is run by one side or the other, never left (as Submit does with _closed).
        Interlocked.MemoryBarrier();
        if (_workClosed)
        {
            RunQueuedWorkElsewhere();
            return;
        }
        WakeIfSleeping();
    }

    /// <summary>The tasks queued to the loop, for the scheduler's debugger view.</summary>
    public IEnumerable<Task> QueuedTasks() =>
        _work.ToArray().Where(w => w.Callback is null).Select(w => (Task)w.State!);

    /// <summary>After the thread has ended: has one pool item run what is queued, unless one already does. One at a
    /// time and in order still, as on the loop (MaximumConcurrencyLevel 1, FIFO): code written for the loop keeps
    /// relying on that while its host goes away.</summary>
    private void RunQueuedWorkElsewhere()
    {
        if (Interlocked.CompareExchange(ref _lateDraining, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static loop => loop.RunLateWork(), this, preferLocal: false);
        }
    }

    private void RunLateWork()
    {
        Volatile.Write(ref _lateThreadId, Environment.CurrentManagedThreadId);
        while (true)
        {
            while (_work.TryDequeue(out LoopWorkItem late))
            {
                late.Run(Scheduler);
                // Remark 8: one pool item runs many late items; the pool resets the ExecutionContext only after the
                // whole of it. The loop thread's default context is the one a pool item starts with.
                RestoreExecutionContext(_threadContext);
            }
            Volatile.Write(ref _lateThreadId, 0);
            // Clear, fence, look again: a Post that enqueued after our last look but found the flag still set left its
            // item to us (its enqueue comes before its compare-and-swap of the flag).
            Volatile.Write(ref _lateDraining, 0);
            Interlocked.MemoryBarrier();
            if (_work.IsEmpty || Interlocked.CompareExchange(ref _lateDraining, 1, 0) != 0)
            {
                return;
            }
            Volatile.Write(ref _lateThreadId, Environment.CurrentManagedThreadId);
        }
    }

    /// <summary>Whether the caller is the thread that runs this loop's work: the loop thread, or after it ended the
    /// pool thread running what is posted late. Work run there may run more of it inline (Send, a task inlined by a
    /// wait) rather than queue it behind itself and wait for ever.</summary>
    public bool IsWorkThread => IsLoopThread || Environment.CurrentManagedThreadId == Volatile.Read(ref _lateThreadId);

    private void WakeIfSleeping()
    {
        // A full fence between the enqueue above and the read of the flag (remark 3), so that the loop either sees the
        // work or we see it sleeping. A plain read after a plain store may be reordered, even on x64.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            // Counted, so that the loop does not dispose the engine (closing the fd a wakeup writes to, whose number
            // another file may then get) while a wakeup is on its way; after the loop closed, there is no one to wake.
            if (Interlocked.Increment(ref _wakers) > 0)
            {
                _engine.Wakeup();
            }
            Interlocked.Decrement(ref _wakers);
        }
    }

    /// <summary>Stops the loop: what it holds is cancelled (what the kernel cannot stop completes with its result), the
    /// engine is torn down on the loop thread, and the thread ends.</summary>
    public void Dispose()
    {
        if (IsLoopThread)
        {
            // Joining our own thread would never return.
            throw new InvalidOperationException("An engine host cannot be disposed from one of its own loops: dispose it from another thread.");
        }
        _stopping = true;
        Interlocked.Exchange(ref _sleeping, 0);
        _engine.Wakeup();
        _thread.Join();
        FileAioMetrics.Unregister(this);
    }

    // ============================================================================================================
    // The loop thread.

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        t_current = this;
        // Remark 8: started with UnsafeStart, the thread has the runtime's default context (never null: flow is not
        // suppressed on a new thread). Every piece of user code run here is to start from it.
        _threadContext = ExecutionContext.Capture()!;
        // For the thread's whole life (remark 6): an await in code run here comes back here. Nothing else on this
        // thread looks at it.
        SynchronizationContext.SetSynchronizationContext(Context);
        try
        {
            _engine = _createEngine();
            _gathers = _engine.GathersWrites;
        }
        catch (Exception e)
        {
            _setupFailure = ExceptionDispatchInfo.Capture(e);
            _setupDone.Set();
            return;
        }
        _setupDone.Set();
        try
        {
            long busySince = Stopwatch.GetTimestamp();
            Volatile.Write(ref _busySince, busySince);
            while (!_stopping)
            {
                ProcessMessages();
                RunWork();
                StartWork();
                NoteBusy(busySince);
                Volatile.Write(ref _busySince, 0); // from here on it watches its queues or its engine, until it is busy again
                // The backlog counts too when the engine has room: an operation the engine refused at Start completes
                // inside StartWork, and in the loop mode its inline continuation may issue the next one into the
                // backlog after StartWork has looked at it. Sleeping then, with nothing in the engine, would be for ever.
                // A reap that filled its limit may have left completions ready: look again without spinning or sleeping.
                bool hasWork = !_incoming.IsEmpty || !_messages.IsEmpty || !_work.IsEmpty || BacklogCanStart || _moreReady;
                if (!hasWork && _inEngine.Count > 0 && _handedOff && SpinForWork())
                {
                    busySince = Stopwatch.GetTimestamp(); // it watched the queues until now
                    Volatile.Write(ref _busySince, busySince);
                    continue; // new work came while we watched: no sleep, no wakeup system call for the producer
                }
                Deadline deadline = Deadline.Expired;
                if (!hasWork)
                {
                    // Remark 3: announce the sleep, fence, look once more.
                    Volatile.Write(ref _sleeping, 1);
                    Interlocked.MemoryBarrier();
                    if (!_incoming.IsEmpty || !_messages.IsEmpty || !_work.IsEmpty || _stopping)
                    {
                        Volatile.Write(ref _sleeping, 0);
                        Volatile.Write(ref _busySince, busySince);
                        continue;
                    }
                    deadline = Deadline.Infinite;
                }
                int count = _engine.Reap(1, deadline, _reaped.AsSpan(0, _reapLimit), out _);
                busySince = Stopwatch.GetTimestamp(); // the Reap looked at the engine (and perhaps slept)
                Volatile.Write(ref _busySince, busySince);
                Volatile.Write(ref _sleeping, 0);
                CompleteReaped(count);
            }
            Shutdown();
        }
        catch (Exception e)
        {
            Environment.FailFast("FileAio: an engine thread failed; operations in flight could never complete.", e);
        }
        // Managed thread ids are reused once a thread has ended: a later thread with this id must not pass for the loop
        // (Submit would put its operation in a backlog nobody runs).
        Volatile.Write(ref _threadId, 0);
        Volatile.Write(ref _busySince, 0); // an ended thread is not busy: the gauge must not grow until Unregister
    }

    /// <summary>The backlog holds work the engine has room for (the next turn's StartWork would start it).</summary>
    private bool BacklogCanStart => !_backlog.IsEmpty && _inEngine.Count < EngineCapacity;

    private void CompleteReaped(int count)
    {
        int deviceReads = 0; // reads started in an earlier turn: not served in the enter that submitted them (DeviceWave)
        if (_gather.RidingCount > 0)
        {
            FinishGatheredFirst(count);
        }
        for (int i = 0; i < count; i++)
        {
            IoOperation io = _reaped[i];
            if (io is null)
            {
                continue; // a gathered write, finished above
            }
            _reaped[i] = null!;
            var operation = (AsyncOperation)io.Owner;
            _inEngine.Remove(operation);
            if (operation.StartTurn != _turn && io.Kind == OperationKind.Read)
            {
                deviceReads++;
            }
            Finish(operation, io.Result);
        }
        _moreReady = count == _reapLimit;
        _cappedReaps = _moreReady && _reapLimit == DeviceWave ? _cappedReaps + 1 : 0;
        if (count > 0)
        {
            bool wave = deviceReads * 2 > count && _cappedReaps < MaxCappedReaps;
            _reapLimit = wave ? DeviceWave : BatchSize;
            _cappedReaps = wave ? _cappedReaps : 0;
        }
        _turn++;
    }

    /// <summary>The gathered writes among the reaped go first: one that must start riders again marks the fsyncs of
    /// its file still in the engine (WriteGather, remark 3), and an fsync reaped in the same batch is one of them.</summary>
    private void FinishGatheredFirst(int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (_reaped[i].Owner is AsyncOperation { IsWriteCarrier: true } carrier)
            {
                _reaped[i] = null!;
                _inEngine.Remove(carrier);
                FinishGathered(carrier, carrier.Io.Result);
            }
        }
    }

    private void Finish(AsyncOperation operation, long result)
    {
        if (operation.IsFlushCarrier)
        {
            FinishCarrier(operation, result);
            return;
        }
        if (operation.IsWriteCarrier)
        {
            FinishGathered(operation, result);
            return;
        }
        operation.State = LoopState.Done;
        _completed++;
        if (result >= 0)
        {
            _bytes += result;
        }
        else
        {
            _errors++;
        }
        switch (operation.Mode)
        {
            case ContinuationMode.Loop:
                // Remark 6: its continuation runs right here. An async method keeps its own exceptions, but any other
                // continuation may throw, and that must not end the loop (remark 5 is for the loop's own faults).
                try
                {
                    operation.Complete(result);
                }
                catch (Exception e)
                {
                    LoopWorkItem.RaiseUnhandled(e);
                }
                AfterUserCode();
                break;
            case ContinuationMode.Inline:
                CompleteInline(operation, result);
                break;
            default:
                operation.Complete(result);
                _handedOff = true; // its continuation runs elsewhere, and usually begins the next operation soon
                break;
        }
    }

    /// <summary>Remark 7: runs an inline-mode continuation here, with no context current (what its code would find on
    /// a pool thread), and puts the loop's back afterwards (and the thread's ExecutionContext, remark 8). Not nested:
    /// user code cannot reach Finish from here.</summary>
    private void CompleteInline(AsyncOperation operation, long result)
    {
        _inlineCompletion = true;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            operation.Complete(result);
        }
        catch (Exception e)
        {
            LoopWorkItem.RaiseUnhandled(e); // as in remark 6: the loop goes on with its other completions
        }
        _inlineCompletion = false;
        AfterUserCode();
    }

    /// <summary>A file's shared fsync has left the engine (or was cancelled before it reached it): its answer goes to
    /// every flush that rode it, then the flushes that waited meanwhile get the next fsync, queued behind everything
    /// the loop has taken so far (FlushGroup, remarks 1 and 2) — unless the file or the loop is closing, which cancels
    /// them (they never reached the kernel).</summary>
    private void FinishCarrier(AsyncOperation carrier, long result)
    {
        carrier.State = LoopState.Done;
        AsyncFile file = carrier.File;
        FlushGroup group = file.Flushes;
        long answer = group.CarrierDone(carrier, result);
        bool tooEarly = carrier.AnswersTooEarly && answer >= 0;
        carrier.AnswersTooEarly = false;
        // The riders leave the group before any of them completes: an inline continuation (loop mode) that flushes
        // again puts its flush in the backlog, which joins a later round.
        while (FlushGroup.TakeRider(carrier) is AsyncOperation rider)
        {
            if (tooEarly)
            {
                group.WaitForNext(rider); // WriteGather, remark 3: the next fsync waits for the writes started again
                continue;
            }
            Finish(rider, answer);
        }
        if (_stopping || file.IsClosing)
        {
            while (group.TakeWaiting() is AsyncOperation waiting)
            {
                Finish(waiting, OperationResult.Canceled);
            }
            return;
        }
        if (answer < 0 && answer != OperationResult.Canceled)
        {
            // The fsync failed (EIO, ENOSPC): the flushes that arrived while it ran fail with it. Linux reports a
            // writeback error once per open file, to the first fsync that looks, so the next fsync would say 0 even
            // for pages whose writeback failed; a flush whose writes may have been among them must not hear success.
            while (group.TakeWaiting() is AsyncOperation waiting)
            {
                Finish(waiting, answer);
            }
            return;
        }
        if (group.NextRound(file, out bool refused) is AsyncOperation next)
        {
            next.State = LoopState.Backlog;
            _backlog.AddLast(next);
        }
        else if (refused)
        {
            // No carrier could take the handle (the caller closed it): the waiting flushes fail, none waits for ever.
            while (group.TakeWaiting() is AsyncOperation waiting)
            {
                Finish(waiting, OperationResult.FromErrno(Interop.Errno.EBADF));
            }
        }
    }

    /// <summary>A gathered write has left the engine (or the backlog, cancelled or refused; or could not be formed,
    /// as one that wrote nothing: TakeGathered): each rider gets its part
    /// of the answer, in order; riders of which nothing was written start again alone, ahead of everything else the
    /// loop holds, and the file's fsyncs in the engine are marked (WriteGather, remark 3). On a closing file or loop,
    /// Take and the stop cancel those riders.</summary>
    private void FinishGathered(AsyncOperation carrier, long result)
    {
        carrier.State = LoopState.Done;
        AsyncFile file = carrier.File;
        carrier.Io.Unpin(); // the kernel is done with the buffers: before any rider's continuation can let go of one
        long answer = result == -Interop.Errno.ECANCELED && carrier.EngineCancelAsked ? OperationResult.Canceled : result;
        long unclaimed = Math.Max(answer, 0);
        long issuedBefore = carrier.CarrierIssueNumber;
        // WriteGather, remark 4: cancelled while the file and the loop go on — a rider's own cancel took it apart
        // before it reached the engine — only the riders that asked end cancelled; nothing was written of the others.
        bool apart = answer == OperationResult.Canceled && !_stopping && !file.IsClosing;
        while (_gather.TakeRider(carrier) is AsyncOperation rider)
        {
            if ((apart && !rider.IsCancelRequested ? null : WriteGather.AnswerFor(rider, answer, ref unclaimed)) is long part)
            {
                Finish(rider, part);
            }
            else
            {
                rider.WriteAlone = true;
                _startAgain.AddLast(rider);
            }
        }
        _gather.Return(carrier);
        if (_startAgain.IsEmpty)
        {
            return;
        }
        while (_startAgain.TakeLast() is AsyncOperation rider)
        {
            PutFront(rider); // in their order, ahead of everything else the loop holds
        }
        for (AsyncOperation? operation = _inEngine.First; operation is not null; operation = operation.Next)
        {
            if (operation.IsFlushCarrier && ReferenceEquals(operation.File, file) && operation.CarrierIssueNumber > issuedBefore)
            {
                operation.AnswersTooEarly = true; // WriteGather, remark 5: issued after the gathered write was formed
            }
        }
    }

    /// <summary>Work queued to the loop (remark 6), at most <see cref="WorkPerTurn"/> items, so that work which keeps
    /// queueing more (a loop of <c>await Task.Yield()</c>) cannot keep the turn from its engine and its messages.</summary>
    private void RunWork()
    {
        if (_work.IsEmpty)
        {
            return;
        }
        for (int i = 0; i < WorkPerTurn && _work.TryDequeue(out LoopWorkItem work); i++)
        {
            work.Run(Scheduler);
            AfterUserCode();
        }
    }

    /// <summary>Puts the loop's context back after user code ran (remark 6). Code may clear or replace the current
    /// context and not restore it; the code run next — queued work, or an inline continuation later in the same turn —
    /// must still find the loop's, or its next await would leave the loop. After each item, not once per turn: one
    /// turn runs many items, and the completions come after them. Likewise the thread's ExecutionContext (remark 8),
    /// and, once the stop has begun, the operations that code began (remark 6).</summary>
    private void AfterUserCode()
    {
        if (SynchronizationContext.Current != Context)
        {
            SynchronizationContext.SetSynchronizationContext(Context);
        }
        RestoreExecutionContext(_threadContext);
        if (_shuttingDown)
        {
            RefuseStartedWhileStopping();
        }
    }

    /// <summary>Remark 8: drops whatever ExecutionContext user code left on this thread (AsyncLocals it set, a flow it
    /// suppressed), as the thread pool does after each work item. <see cref="ExecutionContext.Capture"/> allocates
    /// nothing (it returns the thread's context object, or null when the flow is suppressed), so the usual case — code
    /// that changed nothing, or an async method, which puts its caller's context back itself — costs one reference
    /// comparison; only a change pays for the <see cref="ExecutionContext.Restore"/>.</summary>
    private static void RestoreExecutionContext(ExecutionContext threadContext)
    {
        if (ExecutionContext.Capture() != threadContext)
        {
            ExecutionContext.Restore(threadContext);
        }
    }

    /// <summary>Remark 6: cancels the operations code run here began after the stop had begun, now that the code has
    /// returned (its awaits have registered their continuations). Their continuations are queued to the thread pool —
    /// never run here, where they could begin the next one for ever — as for an operation begun on a closed host from
    /// another thread (<see cref="CancelQueuedAfterClose"/>).</summary>
    private void RefuseStartedWhileStopping()
    {
        while (_startedWhileStopping.TakeFirst() is AsyncOperation refused)
        {
            refused.QueueContinuation();
            Finish(refused, OperationResult.Canceled); // never reached the engine; Queued: runs no user code here
        }
    }

    /// <summary>Items of queued work run per turn: as many as the engine's batch, so that a turn's work issues about one
    /// batch of operations before the turn submits them.</summary>
    private const int WorkPerTurn = BatchSize;

    /// <summary>Keeps the longest busy stretch for the lag metric (a plain store: the metrics' exchange racing it can
    /// lose one sample, never tear one).</summary>
    private void NoteBusy(long busySince)
    {
        long busy = Stopwatch.GetTimestamp() - busySince;
        if (busy > Volatile.Read(ref _maxBusyTicks))
        {
            Volatile.Write(ref _maxBusyTicks, busy);
        }
    }

    private void ProcessMessages()
    {
        while (_messages.TryDequeue(out Message message))
        {
            if (message.File is { } file)
            {
                CancelFileOperations(file);
            }
            else if (message.Operation is { } operation && operation.Version == message.Version)
            {
                CancelOne(operation);
            }
        }
    }

    private void CancelOne(AsyncOperation operation)
    {
        switch (operation.State)
        {
            case LoopState.FlushRiding or LoopState.FlushWaiting:
                // A caller's flush in its file's group: it leaves at once; the shared fsync goes on for the others.
                operation.File.Flushes.Remove(operation);
                Finish(operation, OperationResult.Canceled);
                break;
            case LoopState.Backlog:
                _backlog.Remove(operation);
                Finish(operation, OperationResult.Canceled);
                break;
            case LoopState.WriteRiding when operation.RidingOn is { State: LoopState.Backlog } carrier:
                // WriteGather, remark 4: the gathered write never reached the engine; taken apart, it ends this
                // write as cancelled and starts the others again alone.
                _backlog.Remove(carrier);
                FinishGathered(carrier, OperationResult.Canceled);
                break;
            case LoopState.WriteRiding:
                break; // WriteGather, remark 4: in the engine, it answers its riders; a cancel it missed is seen if it starts again
            case LoopState.InEngine:
                operation.NoteEngineCancelAsked();
                if (_engine.Cancel(operation.Io) == EngineCancelResult.Canceled)
                {
                    _inEngine.Remove(operation);
                    Finish(operation, OperationResult.Canceled);
                }
                break;
            default:
                break; // still in the queue (its flag is seen when it is taken), or finished: nothing to do now
        }
    }

    private void CancelFileOperations(AsyncFile file)
    {
        // Flushes waiting for the file's next fsync never reached the kernel. Those riding the current one follow
        // it: the carrier is cancelled below with the file's other operations (in the backlog: at once; in the
        // engine: if the kernel can still stop it, else it completes and answers them).
        while (file.Flushes.TakeWaiting() is AsyncOperation waiting)
        {
            Finish(waiting, OperationResult.Canceled);
        }
        for (AsyncOperation? operation = _backlog.First; operation is not null;)
        {
            AsyncOperation? next = operation.Next;
            if (ReferenceEquals(operation.File, file))
            {
                CancelOne(operation);
            }
            operation = next;
        }
        for (AsyncOperation? operation = _inEngine.First; operation is not null;)
        {
            AsyncOperation? next = operation.Next;
            if (ReferenceEquals(operation.File, file))
            {
                CancelOne(operation);
            }
            operation = next;
        }
    }

    /// <summary>Moves work into the engine while it has room: the backlog first (it is older), then the queue. What is
    /// queued when the turn begins joins the backlog first (as much as the engine has room for), so that a flush's
    /// shared fsync, queued at the backlog's end, comes after it and the flushes among it ride that fsync (FlushGroup,
    /// remark 2). With the engine full, what is queued moves to the backlog, where a cancel can reach it at once.</summary>
    private void StartWork()
    {
        for (int room = EngineCapacity - _inEngine.Count; room > 0 && _incoming.TryDequeue(out AsyncOperation? queued); room--)
        {
            queued.State = LoopState.Backlog;
            _backlog.AddLast(queued);
        }
        while (true)
        {
            int room = EngineCapacity - _inEngine.Count;
            int count = 0;
            bool carriers = false;
            while (count < room && count < BatchSize && TakeGathered() is AsyncOperation operation)
            {
                operation.State = LoopState.InEngine;
                operation.StartTurn = _turn;
                operation.File.NoteReachedEngine();
                _inEngine.AddLast(operation);
                _batch[count++] = operation.Io;
                carriers |= operation.IsFlushCarrier || operation.IsWriteCarrier;
            }
            if (count > 0)
            {
                int accepted = _engine.Start(_batch.AsSpan(0, count), out int refusedErrno);
                if (carriers)
                {
                    NoteStarted(accepted);
                }
                if (accepted < count)
                {
                    PutBack(accepted, count, refusedErrno);
                }
                _batch.AsSpan(0, count).Clear();
                if (accepted < count)
                {
                    return; // the engine has no more room right now; Reap makes some
                }
            }
            if (count < BatchSize)
            {
                break; // nothing more to take, or no more room
            }
        }
        // Full: what is still queued waits in the backlog, where a cancel finds it.
        while (_inEngine.Count >= EngineCapacity && _incoming.TryDequeue(out AsyncOperation? waiting))
        {
            if (!CancelledBeforeStart(waiting))
            {
                waiting.State = LoopState.Backlog;
                _backlog.AddLast(waiting);
            }
        }
    }

    /// <summary>Counts the shared fsyncs among the first <paramref name="accepted"/> of the batch as issued, and notes
    /// on each gathered write how many of its file's were issued before it (WriteGather, remark 5), in batch order.</summary>
    private void NoteStarted(int accepted)
    {
        foreach (IoOperation io in _batch.AsSpan(0, accepted))
        {
            if (io.Owner is AsyncOperation { IsFlushCarrier: true } carrier)
            {
                carrier.File.Flushes.NoteIssued(carrier);
            }
            else if (io.Owner is AsyncOperation { IsWriteCarrier: true } gathered)
            {
                gathered.CarrierIssueNumber = gathered.File.Flushes.IssuedCount;
            }
        }
    }

    /// <summary>The next operation to start, or null; operations cancelled (or of a closing file) before they started
    /// are completed as cancelled here.</summary>
    private AsyncOperation? Take()
    {
        while (true)
        {
            AsyncOperation? operation = _backlog.TakeFirst();
            if (operation is null && !_incoming.TryDequeue(out operation))
            {
                return null;
            }
            if (CancelledBeforeStart(operation))
            {
                continue;
            }
            if (operation.Io.Kind == OperationKind.Flush && !operation.IsFlushCarrier)
            {
                // Group commit: the flush joins its file's group, which queues a new fsync only when it has none queued.
                AsyncOperation? carrier = operation.File.Flushes.Arrive(operation, operation.File, out bool refused);
                if (carrier is not null && WritesMayNeverEnd(operation.File))
                {
                    // FlushGroup, remark 2: at this flush's place, so that it waits for no write queued after it.
                    return carrier;
                }
                if (carrier is not null)
                {
                    // FlushGroup, remark 2: behind the backlog, taking riders until StartWork reaches it.
                    carrier.State = LoopState.Backlog;
                    _backlog.AddLast(carrier);
                }
                else if (refused)
                {
                    Finish(operation, OperationResult.FromErrno(Interop.Errno.EBADF));
                }
                continue;
            }
            return operation;
        }
    }

    /// <summary>
    /// <see cref="Take"/>, and when that gives a write that may begin a gathered write, also the writes taken right
    /// after it that continue it (WriteGather, remark 2): then the carrier that writes them all, prepared. What is
    /// taken and does not continue it goes back to the front of the backlog, for the next call.
    /// </summary>
    private AsyncOperation? TakeGathered()
    {
        AsyncOperation? first = Take();
        if (!_gathers || first is null || !WriteGather.CanLead(first))
        {
            return first;
        }
        int bytes = first.Io.SegmentLength(0);
        long end = first.Io.Offset + bytes;
        int riders = 1;
        AsyncOperation? next = Take();
        if (next is null || !WriteGather.CanJoin(first, end, bytes, riders, next))
        {
            PutFront(next);
            return first;
        }
        AsyncOperation carrier = _gather.Rent();
        _gather.Ride(carrier, first);
        do
        {
            _gather.Ride(carrier, next);
            bytes += next.Io.SegmentLength(0);
            end += next.Io.SegmentLength(0);
            riders++;
            next = Take();
        }
        while (next is not null && WriteGather.CanJoin(first, end, bytes, riders, next));
        PutFront(next);
        if (carrier.TryBeginWriteCarrier(first.File))
        {
            first.File.NoteGathered();
            return carrier;
        }
        // The caller closed the handle, or a buffer refused a second pin: finished as a gathered write that wrote
        // nothing, which sends each write on its own, to fail (or not) as its own pins and handle say.
        FinishGathered(carrier, 0);
        return Take();
    }

    /// <summary>Puts an operation taken but not started back at the front of the backlog (nothing for null).</summary>
    private void PutFront(AsyncOperation? operation)
    {
        if (operation is not null)
        {
            operation.State = LoopState.Backlog;
            _backlog.AddFirst(operation);
        }
    }

    /// <summary>A FIFO, socket or character device, or a file on FUSE: a write of it may wait for ever (a full pipe, a
    /// file system server that stopped answering).</summary>
    private static bool WritesMayNeverEnd(AsyncFile file) =>
        (file.Traits & (Platform.FileTraits.Pollable | Platform.FileTraits.OnFuse)) != 0;

    private bool CancelledBeforeStart(AsyncOperation operation)
    {
        if (!operation.IsCancelRequested && !operation.File.IsClosing)
        {
            return false;
        }
        Finish(operation, OperationResult.Canceled); // never reached the engine
        return true;
    }

    /// <summary>The engine did not accept <c>_batch[accepted..count)</c>: the one it refused outright fails with that
    /// error, the rest go back to the front of the backlog, in order.</summary>
    private void PutBack(int accepted, int count, int refusedErrno)
    {
        for (int i = count - 1; i >= accepted; i--)
        {
            var operation = (AsyncOperation)_batch[i].Owner;
            _inEngine.Remove(operation);
            if (i == accepted && refusedErrno != 0)
            {
                Finish(operation, OperationResult.FromErrno(refusedErrno));
                continue;
            }
            operation.State = LoopState.Backlog;
            _backlog.AddFirst(operation);
        }
    }

    /// <summary>
    /// Before sleeping, watch the queues briefly: completions just handed to the thread pool usually come back as new
    /// operations within microseconds, and catching them here saves the producer a wakeup and this thread a sleep —
    /// the dominant cost per operation on a virtual machine. The watch adapts: it doubles (up to
    /// <see cref="MaxSpinTicks"/>) when it catches work and shrinks by an eighth when it does not, so slow devices
    /// (O_DIRECT reads of hundreds of microseconds) stop paying for spinning that never pays off.
    /// </summary>
    private bool SpinForWork()
    {
        if (_spinTicks < MinSpinTicks)
        {
            _spinTicks = MinSpinTicks; // keep probing a little, so a workload that speeds up is noticed
        }
        long giveUp = Stopwatch.GetTimestamp() + _spinTicks;
        do
        {
            if (!_incoming.IsEmpty || !_messages.IsEmpty || !_work.IsEmpty)
            {
                _spinTicks = Math.Min(_spinTicks * 2, MaxSpinTicks);
                return true;
            }
            Thread.SpinWait(30);
        }
        while (Stopwatch.GetTimestamp() < giveUp);
        _spinTicks -= _spinTicks / 8; // shrink slowly: one miss among many hits should not end the watching
        _handedOff = false;
        return false;
    }

    /// <summary>The longest watch: 20 µs, about one thread-pool round trip here (measured: the page-cached async
    /// benchmark gained most at this value).</summary>
    private static readonly long MaxSpinTicks = Stopwatch.Frequency / 50_000;

    /// <summary>The shortest watch: 1 µs.</summary>
    private static readonly long MinSpinTicks = Stopwatch.Frequency / 1_000_000;

    /// <summary>At stop, once the engine holds nothing (remark 6): queued work still runs here, until none is left; then
    /// work posted later goes to the thread pool. Operations that work (or the continuations above) begins here are
    /// refused as each returns (<see cref="AfterUserCode"/>), their continuations queued to the pool, so code that
    /// answers every cancellation with a new operation cannot keep this going. (The backlog holds only what code began
    /// before the stop.) Work that keeps queueing more work still would (docs/async.md).</summary>
    private void DrainWork()
    {
        while (true)
        {
            while (_backlog.TakeFirst() is AsyncOperation late)
            {
                Finish(late, OperationResult.Canceled); // never reached the engine
            }
            if (!_work.TryDequeue(out LoopWorkItem work))
            {
                break;
            }
            work.Run(Scheduler);
            AfterUserCode();
        }
        _workClosed = true;
        Interlocked.MemoryBarrier();
        RunQueuedWorkElsewhere(); // what came between the drain above and the flag
    }

    /// <summary>At stop: everything not yet in the engine is cancelled, the engine cancels and drains the rest, and is
    /// torn down here, on the thread that owns it.</summary>
    private void Shutdown()
    {
        _shuttingDown = true; // from here on, what code run here begins is refused (remark 6), not put in the backlog
        while (_backlog.TakeFirst() is AsyncOperation waiting)
        {
            Finish(waiting, OperationResult.Canceled);
        }
        while (_incoming.TryDequeue(out AsyncOperation? queued))
        {
            Finish(queued, OperationResult.Canceled);
        }
        _closed = true;
        Interlocked.MemoryBarrier();
        CancelQueuedAfterClose(); // what came between the drain above and the flag
        var canceled = new List<IoOperation>();
        var completed = new List<IoOperation>();
        _engine.CancelAllAndDrain(canceled, completed);
        foreach (IoOperation io in canceled)
        {
            var operation = (AsyncOperation)io.Owner;
            _inEngine.Remove(operation);
            Finish(operation, OperationResult.Canceled);
        }
        // Gathered writes first, as in CompleteReaped: one that starts riders again marks the file's fsyncs among the
        // rest before they answer (WriteGather, remark 3).
        foreach (bool writeCarriers in (ReadOnlySpan<bool>)[true, false])
        {
            foreach (IoOperation io in completed)
            {
                var operation = (AsyncOperation)io.Owner;
                if (operation.IsWriteCarrier == writeCarriers)
                {
                    _inEngine.Remove(operation);
                    Finish(operation, io.Result);
                }
            }
        }
        Debug.Assert(_inEngine.IsEmpty, "The engine gave every operation back.");
        DrainWork();
        Debug.Assert(_startedWhileStopping.IsEmpty && _backlog.IsEmpty, "Each piece of user code's refusals were made when it returned.");
        // No wakeup may reach the engine once it is disposed: close the door, then let the ones under way finish.
        Interlocked.Add(ref _wakers, int.MinValue);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _wakers) != int.MinValue)
        {
            spinner.SpinOnce();
        }
        _engineDisposed = true;
        _engine.Dispose();
    }
}
