using System.Diagnostics;
using System.Runtime.InteropServices;
using FileAio.Interop;
using FileAio.Platform;

namespace FileAio.Engines.ThreadPool;

/// <summary>
/// Dedicated threads that run operations as blocking positional system calls (<see cref="PositionalIo"/>) and hand
/// each finished one to their owner's callback: the thread-pool engine's workers, and the io_uring engine's side path
/// for FUSE files.
/// </summary>
/// <remarks>
/// <para>1. States, in <see cref="IoOperation.EngineState"/> with this pool's identity in the upper bits:
/// Queued → Running → Finished, or Queued → Canceled; for a file that can block for ever (a FIFO, a socket:
/// <see cref="FileTraits.Pollable"/>) Queued → Waiting → Running, where Waiting is a <c>poll</c> on the file and the
/// worker's own eventfd, so Waiting → CancelRequested → Canceled is possible too. Every move is a compare-and-swap:
/// an operation is run or cancelled, never both, and a stale cancel aimed at an operation that moved on finds a
/// word it does not own.</para>
/// <para>2. A cancelled operation stays in the queue until a worker skips it. Each queue entry carries the sequence
/// number the operation had when it was queued; one cancelled, described anew and queued again has a new number, so
/// its stale entry is skipped rather than run twice.</para>
/// <para>3. Workers are background threads, named, started without the submitter's ExecutionContext, created on
/// demand up to a maximum, and they run no user code: the callback is the owning engine's. A failure inside a worker
/// fails the process: a silent stop would leave callers waiting for ever.</para>
/// <para>4. At most the maximum of workers run system calls; workers waiting in poll for a pollable file are not
/// counted, so reads of FIFOs nobody writes to cannot starve the other files' work. Workers are not retired.</para>
/// </remarks>
internal sealed unsafe class PositionalWorkers
{
    /// <summary>Most workers by default: enough concurrent system calls to keep a device queue busy (an NVMe or virtio
    /// disk serves 8+ at once) without a thread per operation. Measured against RandomAccess in bench/.</summary>
    public static readonly int DefaultMaxWorkers = Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    private const int StateQueued = 1;
    private const int StateWaiting = 2;
    private const int StateCancelRequested = 3;
    private const int StateRunning = 4;
    private const int StateFinished = 5;
    private const int StateCanceled = 6;
    private const int StateRunningCancelRequested = 7; // a pollable transfer found nothing to do: it ends cancelled
    private const int StateBits = 8;

    private static int s_lastPoolId;

    /// <summary>Sequence numbers are unique across every pool in the process, so a stale queue entry can never match
    /// an operation that moved to another pool (remark 2).</summary>
    private static long s_sequence;

    private readonly int _id;
    private readonly int _maxWorkers;
    private readonly string _name;
    private readonly Action<IoOperation> _onFinished;

    // ---- Guarded by _lock; idle workers wait on its monitor (one Pulse per queued operation).
    private readonly object _lock = new();
    private readonly Queue<(IoOperation Operation, long Sequence)> _pending = new();
    private readonly List<Worker> _workers = [];
    private int _idle;

    /// <summary>Workers waiting in poll for a pollable file (Interlocked). They do not count against the maximum: a
    /// FIFO nobody writes to could otherwise hold every worker and starve every other file (remark 4).</summary>
    private int _waiting;
    private bool _stopping;

    /// <param name="name">The workers' thread name prefix.</param>
    /// <param name="maxWorkers">Most threads at once.</param>
    /// <param name="onFinished">Called on the worker thread, with <see cref="IoOperation.Result"/> set, for every
    /// operation that ran (not for cancelled ones).</param>
    public PositionalWorkers(string name, int maxWorkers, Action<IoOperation> onFinished)
    {
        _name = name;
        _maxWorkers = maxWorkers;
        _onFinished = onFinished;
        // Wraps after 2^23 pools; a clash needs a stale cancel to meet the one pool 8 million creations later.
        _id = Interlocked.Increment(ref s_lastPoolId) & 0x7FFFFF;
    }

    private sealed class Worker
    {
        public required Thread Thread;
        public int EventFd = -1;        // wakes the worker out of a poll (Linux)
        public IoOperation? Current;
    }

    /// <summary>What <see cref="TryCancel"/> found.</summary>
    public enum CancelAnswer
    {
        /// <summary>It will never run, or it stopped waiting without touching its buffer: no callback follows.</summary>
        Canceled,

        /// <summary>Inside its system call: it finishes normally and the callback follows.</summary>
        Running,

        /// <summary>It has finished (the callback has run or is running).</summary>
        Finished,

        /// <summary>Not this pool's (cancelled already, or never queued here).</summary>
        NotHeld,
    }

    private int Tag(int state) => _id << StateBits | state;

    private bool TryMove(IoOperation operation, int from, int to) =>
        Interlocked.CompareExchange(ref operation.EngineState, Tag(to), Tag(from)) == Tag(from);

    /// <summary>Whether a worker is inside the operation's system call (for tests that hold workers there).</summary>
    internal static bool IsInSystemCall(IoOperation operation) =>
        (Volatile.Read(ref operation.EngineState) & ((1 << StateBits) - 1)) is StateRunning or StateRunningCancelRequested;

    private int StateOf(IoOperation operation)
    {
        int word = Volatile.Read(ref operation.EngineState);
        return word >> StateBits == _id ? word & ((1 << StateBits) - 1) : 0;
    }

    /// <summary>Queues an operation. Any thread.</summary>
    public void Enqueue(IoOperation operation)
    {
        lock (_lock)
        {
            Debug.Assert(!_stopping, "No work is queued once the pool is stopping.");
            long sequence = Interlocked.Increment(ref s_sequence);
            operation.QueueSequence = sequence;
            Volatile.Write(ref operation.EngineState, Tag(StateQueued));
            _pending.Enqueue((operation, sequence));
            // An idle worker takes it, or a new one (remark 4).
            StartWorkerIfNeededUnsynchronized();
            if (_idle > 0)
            {
                Monitor.Pulse(_lock);
            }
        }
    }

    /// <summary>Tries to stop an operation. A queued one is taken out; one waiting on a pollable file is woken and
    /// gives up without touching its buffer (this waits for the worker's answer, which comes at once).</summary>
    public CancelAnswer TryCancel(IoOperation operation)
    {
        if (TryMove(operation, StateQueued, StateCanceled))
        {
            return CancelAnswer.Canceled; // not yet taken by a worker (taking is the same compare-and-swap)
        }
        if (TryMove(operation, StateWaiting, StateCancelRequested))
        {
            lock (_lock)
            {
                foreach (Worker worker in _workers)
                {
                    if (ReferenceEquals(worker.Current, operation))
                    {
                        Signal(worker);
                    }
                }
            }
            // The worker answers at once: it is in poll (or about to be), not in the transfer, and gives up without
            // touching the buffer. From CancelRequested the only move is to Canceled.
            var spinner = new SpinWait();
            int state;
            while ((state = StateOf(operation)) == StateCancelRequested)
            {
                spinner.SpinOnce(sleep1Threshold: 20);
            }
            Debug.Assert(state == StateCanceled, "A worker asked to give up a wait gives it up.");
            return CancelAnswer.Canceled;
        }
        if (TryMove(operation, StateRunning, StateRunningCancelRequested))
        {
            // Inside its transfer: it finishes normally — unless it is a pollable transfer that finds nothing to do,
            // which then ends cancelled instead of waiting again (reported through the callback, as Running promises).
            return CancelAnswer.Running;
        }
        return StateOf(operation) switch
        {
            StateRunning or StateCancelRequested or StateRunningCancelRequested => CancelAnswer.Running,
            StateFinished => CancelAnswer.Finished,
            _ => CancelAnswer.NotHeld,
        };
    }

    /// <summary>Teardown, first step: cancels every queued operation and every one waiting on a pollable file (added to
    /// <paramref name="canceled"/>). Running ones go on; work may still be queued until <see cref="Stop"/>.</summary>
    public void CancelAll(List<IoOperation> canceled)
    {
        List<IoOperation> waiting = [];
        lock (_lock)
        {
            foreach (var entry in _pending)
            {
                if (entry.Operation.QueueSequence == entry.Sequence && TryMove(entry.Operation, StateQueued, StateCanceled))
                {
                    canceled.Add(entry.Operation);
                }
            }
            _pending.Clear();
            foreach (Worker worker in _workers)
            {
                if (worker.Current is { } current && StateOf(current) == StateWaiting)
                {
                    waiting.Add(current);
                }
            }
        }
        foreach (IoOperation operation in waiting)
        {
            if (TryCancel(operation) == CancelAnswer.Canceled)
            {
                canceled.Add(operation);
            }
        }
    }

    /// <summary>Teardown, last step: lets the workers finish what is queued and running (their callbacks return) and
    /// waits for their threads to end. Nothing may be queued afterwards.</summary>
    public void Stop()
    {
        List<Worker> workers;
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock); // idle workers see it and exit once the queue is empty
            workers = [.. _workers];
        }
        foreach (Worker worker in workers)
        {
            worker.Thread.Join();
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    /// <summary>More queued work than idle workers (which count as idle until they run again) starts another, while
    /// the workers not waiting on a pollable file are fewer than the maximum. Caller holds <c>_lock</c>.</summary>
    private void StartWorkerIfNeededUnsynchronized()
    {
        if (_pending.Count > _idle && _workers.Count - Volatile.Read(ref _waiting) < _maxWorkers)
        {
            StartWorkerUnsynchronized();
        }
    }

    private void StartWorkerUnsynchronized()
    {
        var worker = new Worker { Thread = null! };
        worker.Thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"{_name} {_workers.Count}" };
        _workers.Add(worker);
        worker.Thread.UnsafeStart(worker); // no ExecutionContext: the worker runs no user code
    }

    private void WorkerLoop(object? state)
    {
        var me = (Worker)state!;
        try
        {
            if (OperatingSystem.IsLinux())
            {
                me.EventFd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC | Syscalls.EFD_NONBLOCK);
                if (me.EventFd < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    throw new IOException($"eventfd failed: {Errors.Describe(error)}.", error);
                }
            }
            while (TakeNext(me, out bool waits) is IoOperation operation)
            {
                // Whether it waits was decided when it was taken, not read again here: a cancel may already have moved
                // a waiting operation to CancelRequested, and running it then would block in the transfer for ever.
                bool run = !waits || WaitUntilReady(me, operation);
                while (run)
                {
                    long result = PositionalIo.Execute(operation);
                    if (waits && result == -Errno.EAGAIN)
                    {
                        // Ready was a snapshot (another reader took the bytes): wait again, cancellably — unless a cancel
                        // came while it ran, which was told "running" and now gets its answer through the callback.
                        if (TryMove(operation, StateRunning, StateWaiting))
                        {
                            Interlocked.Increment(ref _waiting);
                            run = WaitUntilReady(me, operation);
                            continue;
                        }
                        result = -Errno.ECANCELED;
                    }
                    operation.Result = result;
                    Volatile.Write(ref operation.EngineState, Tag(StateFinished));
                    me.Current = null;
                    _onFinished(operation);
                    break;
                }
                if (!run)
                {
                    me.Current = null;
                    Volatile.Write(ref operation.EngineState, Tag(StateCanceled)); // its canceller waits for this
                }
            }
        }
        catch (Exception e)
        {
            // A bug here would leave callers waiting for ever; failing loudly is the honest outcome.
            Environment.FailFast("FileAio: a positional I/O worker failed unexpectedly.", e);
        }
        finally
        {
            if (me.EventFd >= 0)
            {
                Syscalls.Close(me.EventFd);
            }
        }
    }

    /// <summary>Blocks until a live operation is queued (null once stopping and nothing is left) and marks it taken.</summary>
    private IoOperation? TakeNext(Worker me, out bool waits)
    {
        waits = false;
        lock (_lock)
        {
            while (true)
            {
                while (_pending.Count == 0)
                {
                    if (_stopping)
                    {
                        return null;
                    }
                    _idle++;
                    Monitor.Wait(_lock);
                    _idle--;
                }
                var entry = _pending.Dequeue();
                IoOperation operation = entry.Operation;
                waits = operation.Kind != OperationKind.Flush && (operation.Traits & FileTraits.Pollable) != 0 && me.EventFd >= 0;
                if (operation.QueueSequence != entry.Sequence
                    || !TryMove(operation, StateQueued, waits ? StateWaiting : StateRunning))
                {
                    continue; // a stale entry (remark 2), or cancelled while queued
                }
                me.Current = operation;
                if (waits)
                {
                    Interlocked.Increment(ref _waiting);
                    StartWorkerIfNeededUnsynchronized(); // this one may wait long: the queue behind it must not
                }
                return operation;
            }
        }
    }

    /// <summary>Waits until the operation's file is ready (poll), or until it is cancelled; true when it may run. A
    /// FIFO with nothing to read can keep a read waiting for ever: this is what lets cancellation and teardown stop
    /// it. Once ready, a read returns at once; a write larger than the room a pipe has may still block for the rest.</summary>
    private bool WaitUntilReady(Worker me, IoOperation operation)
    {
        try
        {
            return WaitUntilReadyCore(me, operation);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private bool WaitUntilReadyCore(Worker me, IoOperation operation)
    {
        PollFd* fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = operation.Fd, Events = operation.Kind == OperationKind.Read ? Syscalls.POLLIN : Syscalls.POLLOUT };
        fds[1] = new PollFd { Fd = me.EventFd, Events = Syscalls.POLLIN };
        while (true)
        {
            if (StateOf(operation) == StateCancelRequested)
            {
                return false; // cancelled before or while we polled (its signal may be read by a later poll: harmless)
            }
            fds[0].ReturnedEvents = 0;
            fds[1].ReturnedEvents = 0;
            if (Syscalls.Poll(fds, 2, -1) < 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }
                return TryMove(operation, StateWaiting, StateRunning); // let the transfer itself report the error
            }
            if (fds[1].ReturnedEvents != 0)
            {
                ulong drained;
                Syscalls.Read(me.EventFd, &drained, sizeof(ulong));
                if (StateOf(operation) == StateCancelRequested)
                {
                    return false;
                }
            }
            if (fds[0].ReturnedEvents != 0)
            {
                // Ready (or hung up, or in error: the transfer reports it). A canceller that got in first wins.
                return TryMove(operation, StateWaiting, StateRunning);
            }
        }
    }

    private static void Signal(Worker worker)
    {
        if (worker.EventFd >= 0)
        {
            ulong one = 1;
            Syscalls.Write(worker.EventFd, &one, sizeof(ulong));
        }
    }
}
