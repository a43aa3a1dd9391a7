using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using FileAio.Async;
using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// One thread that owns one io_uring and runs <see cref="AioFileOperation"/>s on it: the async layer's io_uring engine.
/// </summary>
/// <remarks>
/// <para>1. Ownership. The ring, its slots and its backlog belong to the worker thread alone: no locks. Other
/// threads reach it only through two lock-free queues (<c>_submissions</c>, <c>_cancellations</c>) and a wakeup.
/// Because one thread drives the ring, it is set up with SINGLE_ISSUER and DEFER_TASKRUN where the kernel has them,
/// and enters it through a registered ring fd (a per-thread registration, which dies with the thread).</para>
/// <para>2. Batching. Each round drains the queues into SQEs and makes one <c>io_uring_enter</c> that both submits
/// and reaps; under load the thread never sleeps and producers never make a system call.</para>
/// <para>3. Sleeping without losing work. Before blocking, the thread sets <c>_sleeping</c>, fences, and looks at the
/// queues once more; a producer enqueues, fences, then swaps <c>_sleeping</c> to 0 and, if it was 1, writes to an
/// eventfd whose read the ring keeps armed — its completion ends the sleep. Either the thread sees the new work, or the
/// producer sees the flag and wakes it (the Dekker pattern, both sides with full fences).</para>
/// <para>4. Completion. A CQE completes its operation on this thread; the operation's source runs continuations
/// asynchronously, so user code goes to the thread pool, never here. Cancellation asks the kernel with an
/// IORING_OP_ASYNC_CANCEL SQE; the operation still completes only through its own CQE.</para>
/// <para>5. A fatal error in the loop fails the process (as the runtime's socket engine does): a silent stop would
/// leave every caller awaiting for ever.</para>
/// </remarks>
internal sealed unsafe class IoUringRingWorker : IAsyncWorker
{
    /// <summary>Operations in flight per ring. Beyond it they wait in the backlog; 1024 covers deep queues on fast
    /// devices while keeping the CQ (2 × this) small.</summary>
    private const int SlotCount = 1024;
    private const uint SqEntries = 256;
    private const uint CqEntries = 2 * SlotCount;

    private const ulong EventFdReadUserData = ulong.MaxValue;
    private const ulong CancelUserData = ulong.MaxValue - 1;

    private IoUringRing _ring = null!;                         // created by the worker thread (SetUp)
    private int _eventFd = -1;
    private readonly ulong* _eventFdValue;                    // 8 bytes the armed eventfd read fills
    private readonly Thread _thread;
    private ManualResetEventSlim? _setupDone;
    private int _setupErrno;

    private readonly ConcurrentQueue<AioFileOperation> _submissions = new();
    private readonly ConcurrentQueue<(AioFileOperation Operation, ulong UserData)> _cancellations = new();
    private int _sleeping;
    private volatile bool _stopping;

    // ---- Worker-thread state.
    private readonly AioFileOperation?[] _slots = new AioFileOperation?[SlotCount];
    private readonly uint[] _generations = new uint[SlotCount];
    private readonly int[] _free = new int[SlotCount];
    private int _freeCount;
    private readonly long[] _writeEpochs = new long[SlotCount]; // flush-barrier epoch of the write in each slot, or -1
    private readonly Queue<AioFileOperation> _backlog = new();
    private readonly FlushBarrier<AioFileOperation> _barrier = new();
    private readonly Queue<AioFileOperation> _releasedFlushes = new(); // let go by the barrier, to submit as they are
    private uint _sqTail;
    private uint _unsubmitted;                                 // SQEs written, not yet consumed by the kernel
    private int _inFlight;                                     // operations in slots
    private bool _eventFdArmed;
    private bool _cancelAllSent;

    private IoUringRingWorker(int index)
    {
        _eventFdValue = (ulong*)NativeMemory.AllocZeroed(8);
        for (int i = 0; i < SlotCount; i++)
        {
            _free[i] = SlotCount - 1 - i;
        }
        _freeCount = SlotCount;
        _thread = new Thread(Run) { IsBackground = true, Name = $"FileAio ring {index}" };
    }

    /// <summary>
    /// Creates a ring worker, or returns null with the errno when its ring cannot be set up. The ring is created on
    /// the worker thread itself: with SINGLE_ISSUER the kernel binds the ring to the creating thread and refuses
    /// io_uring_enter from any other (EEXIST).
    /// </summary>
    public static IoUringRingWorker? TryCreate(int index, out int errno)
    {
        var worker = new IoUringRingWorker(index);
        using var created = new ManualResetEventSlim();
        worker._setupDone = created;
        worker._thread.UnsafeStart(); // no ExecutionContext: the thread runs no user code
        created.Wait();
        errno = worker._setupErrno;
        if (errno != 0)
        {
            worker._thread.Join();
            NativeMemory.Free(worker._eventFdValue);
            return null;
        }
        return worker;
    }

    /// <summary>On the worker thread: the ring and the eventfd, or the errno of what failed.</summary>
    private bool SetUp()
    {
        _setupErrno = IoUringRing.TryCreate(SqEntries, CqEntries, IoUringRing.OwnedRingFlagSets, out IoUringRing? ring);
        if (_setupErrno == 0)
        {
            _ring = ring!;
            // Only this thread enters the ring, so it can register the ring fd with itself (remark 1).
            UsesRegisteredRingFd = _ring.UseRegisteredRingFd();
            _eventFd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC);
            if (_eventFd < 0)
            {
                _setupErrno = Marshal.GetLastPInvokeError();
                _ring.Dispose();
            }
        }
        _setupDone!.Set();
        return _setupErrno == 0;
    }

    public AioEngineKind Engine => AioEngineKind.IoUring;

    /// <summary>The setup flags the kernel accepted (SINGLE_ISSUER and DEFER_TASKRUN where available).</summary>
    public uint SetupFlags => _ring.SetupFlags;

    /// <summary>Whether the worker enters its ring through a registered ring fd (Linux 5.18+).</summary>
    public bool UsesRegisteredRingFd { get; private set; }

    public void Enqueue(AioFileOperation operation)
    {
        _submissions.Enqueue(operation);
        WakeIfSleeping();
    }

    public void RequestCancel(AioFileOperation operation)
    {
        // The user_data names the submission: a request that completed (and was reused) meanwhile does not match.
        _cancellations.Enqueue((operation, Volatile.Read(ref operation.UserData)));
        WakeIfSleeping();
    }

    private void WakeIfSleeping()
    {
        // A full fence between the enqueue above and the read of the flag (remark 3), so that the worker either sees
        // the work or we see it sleeping. ConcurrentQueue happens to give this already (its enqueue reserves the slot
        // with an interlocked operation, and IsEmpty counts a reserved slot), but the pattern should not rest on the
        // queue's internals: a plain read after a plain store may be reordered, even on x64.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            ulong one = 1;
            Syscalls.Write(_eventFd, &one, sizeof(ulong));
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Interlocked.Exchange(ref _sleeping, 0);
        ulong one = 1;
        Syscalls.Write(_eventFd, &one, sizeof(ulong));
        _thread.Join();
        _ring.Dispose();
        Syscalls.Close(_eventFd);
        NativeMemory.Free(_eventFdValue);
    }

    // ============================================================================================================
    // The worker thread.

    private void Run()
    {
        if (!SetUp())
        {
            return;
        }
        try
        {
            ArmEventFdRead();
            while (true)
            {
                FillSubmissionQueue();
                if (_stopping)
                {
                    if (_inFlight == 0 && _backlog.Count == 0 && _submissions.IsEmpty
                        && _releasedFlushes.Count == 0 && !_barrier.HasHeldFlushes)
                    {
                        break;
                    }
                    CancelEverythingOnce();
                }
                bool canSleep = _unsubmitted == 0 && !HasCqes();
                if (canSleep && _inFlight > 0 && SpinForWork())
                {
                    continue; // new work came while we spun: no sleep, no wakeup syscall for the producer
                }
                if (canSleep)
                {
                    // Remark 3: announce the sleep, fence, look once more.
                    Volatile.Write(ref _sleeping, 1);
                    Interlocked.MemoryBarrier();
                    if (!_submissions.IsEmpty || !_cancellations.IsEmpty || _stopping)
                    {
                        Volatile.Write(ref _sleeping, 0);
                        continue;
                    }
                }
                EnterAndReap(canSleep);
                Volatile.Write(ref _sleeping, 0);
            }
            if (_eventFdArmed)
            {
                CancelEventFdRead();
            }
        }
        catch (Exception e)
        {
            Environment.FailFast("FileAio: an io_uring worker failed; operations in flight could never complete.", e);
        }
    }

    /// <summary>
    /// Before sleeping, watch the queues briefly: completions just handed to the thread pool usually come back as new
    /// operations within microseconds, and catching them here saves the producer an eventfd write and this thread a
    /// sleep and a wakeup — the dominant cost per operation on a virtual machine. The watch adapts: it doubles (up to
    /// <see cref="MaxSpinTicks"/>) when it catches work and shrinks by an eighth when it does not, so slow devices
    /// (O_DIRECT reads of hundreds of microseconds) stop paying for spinning that never pays off.
    /// </summary>
    private bool SpinForWork()
    {
        if (_spinTicks < MinSpinTicks)
        {
            _spinTicks = MinSpinTicks; // keep probing a little, so a workload that speeds up is noticed
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        long giveUp = start + _spinTicks;
        do
        {
            if (!_submissions.IsEmpty || !_cancellations.IsEmpty)
            {
                _spinTicks = Math.Min(_spinTicks * 2, MaxSpinTicks);
                return true;
            }
            Thread.SpinWait(30);
        }
        while (System.Diagnostics.Stopwatch.GetTimestamp() < giveUp);
        _spinTicks -= _spinTicks / 8; // shrink slowly: one miss among many hits should not end the watching
        return false;
    }

    /// <summary>The longest watch: 20 µs, about one thread-pool round trip here (measured: the page-cached async
    /// benchmark gained most at this value).</summary>
    private static readonly long MaxSpinTicks = System.Diagnostics.Stopwatch.Frequency / 50_000;

    /// <summary>The shortest watch: 1 µs.</summary>
    private static readonly long MinSpinTicks = System.Diagnostics.Stopwatch.Frequency / 1_000_000;

    private long _spinTicks = MaxSpinTicks;                    // worker thread only

    private bool HasCqes() => RingBarriers.LoadAcquire(_ring.KCqTail) != *_ring.KCqHead;

    /// <summary>Turns queued work into SQEs: cancellations first (cheap, and they free the device), then the backlog,
    /// then new submissions, while slots and SQ room last.</summary>
    private void FillSubmissionQueue()
    {
        while (SqRoom() > 0 && _cancellations.TryDequeue(out var cancellation))
        {
            int index = (int)(uint)cancellation.UserData;
            if (cancellation.UserData != 0 && (uint)index < SlotCount
                && ReferenceEquals(_slots[index], cancellation.Operation)
                && _generations[index] == (uint)(cancellation.UserData >> 32))
            {
                SqePrep.Cancel(NextSqe(), cancellation.UserData, 0, CancelUserData);
            }
        }
        while (_freeCount > 0 && SqRoom() > 0 && _releasedFlushes.TryDequeue(out AioFileOperation? flush))
        {
            StartOrCancel(flush);
        }
        while (_freeCount > 0 && SqRoom() > 0)
        {
            if (!_backlog.TryDequeue(out AioFileOperation? operation) && !_submissions.TryDequeue(out operation))
            {
                break;
            }
            // A flush waits (outside the ring) until the writes started before it have completed (FlushBarrier).
            if (operation.Kind == AioOperationKind.Flush && !operation.CancellationToken.IsCancellationRequested
                && !_barrier.TryPass(operation))
            {
                continue;
            }
            StartOrCancel(operation);
        }
        // Out of slots: move what is queued to the backlog so the queue's producers never wait on us.
        while (_freeCount == 0 && _submissions.TryDequeue(out AioFileOperation? waiting))
        {
            _backlog.Enqueue(waiting);
        }
    }

    private void StartOrCancel(AioFileOperation operation)
    {
        if (operation.CancellationToken.IsCancellationRequested)
        {
            operation.Complete(EngineResult.Canceled); // never reached the kernel
            return;
        }
        StartOperation(operation);
    }

    private uint SqRoom() => _ring.SqEntries - (_sqTail - RingBarriers.LoadAcquire(_ring.KSqHead));

    private IoUringSqe* NextSqe()
    {
        IoUringSqe* sqe = _ring.Sqe(_sqTail);
        _sqTail++;
        _unsubmitted++;
        return sqe;
    }

    private void StartOperation(AioFileOperation operation)
    {
        int index = _free[--_freeCount];
        uint generation = ++_generations[index];
        if (generation == 0)
        {
            generation = _generations[index] = 1; // user_data 0 means "never submitted" to RequestCancel
        }
        _slots[index] = operation;
        _writeEpochs[index] = operation.Kind == AioOperationKind.Write ? _barrier.WriteStarted() : -1;
        _inFlight++;
        ulong userData = (ulong)generation << 32 | (uint)index;
        Volatile.Write(ref operation.UserData, userData);

        IoUringSqe* sqe = NextSqe();
        switch (operation.Kind)
        {
            case AioOperationKind.Read or AioOperationKind.Write when !operation.IsVectored:
                SqePrep.Transfer(sqe, operation.Kind == AioOperationKind.Read, operation.Fd, operation.Offset,
                    operation.SegmentPointer(0), operation.SegmentLength(0), userData);
                break;
            case AioOperationKind.Read or AioOperationKind.Write:
                SqePrep.TransferVectored(sqe, operation.Kind == AioOperationKind.Read, operation.Fd, operation.Offset,
                    operation.SegmentIovecs(), operation.SegmentCount, userData);
                break;
            default:
                // A plain fsync: the FlushBarrier held it until the writes before it completed. (Not IOSQE_IO_DRAIN:
                // that would also hold back the eventfd read that wakes this thread.)
                SqePrep.Fsync(sqe, operation.Fd, operation.DataOnly, userData);
                break;
        }
    }

    private void ArmEventFdRead()
    {
        // Offset -1: the eventfd has no position.
        SqePrep.Transfer(NextSqe(), read: true, _eventFd, -1, (byte*)_eventFdValue, sizeof(ulong), EventFdReadUserData);
        _eventFdArmed = true;
    }

    /// <summary>At shutdown: ask the kernel to cancel everything in flight (what it cannot stop still completes).</summary>
    private void CancelEverythingOnce()
    {
        if (_cancelAllSent || _inFlight == 0 || SqRoom() == 0)
        {
            return;
        }
        _cancelAllSent = true;
        SqePrep.Cancel(NextSqe(), 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL, CancelUserData);
    }

    private void CancelEventFdRead()
    {
        SqePrep.Cancel(NextSqe(), EventFdReadUserData, 0, CancelUserData);
        while (_eventFdArmed)
        {
            EnterAndReap(wait: true);
        }
    }

    /// <summary>One io_uring_enter: submits what is written, and (waiting for one completion when asked to) lets the
    /// kernel post completions; then reaps them.</summary>
    private void EnterAndReap(bool wait)
    {
        // Release: every SQE written is visible to the kernel before the tail that covers it.
        RingBarriers.StoreRelease(_ring.KSqTail, _sqTail);
        int result = _ring.Enter(_unsubmitted, wait ? 1u : 0u, IORING_ENTER_GETEVENTS, null, 0);
        if (result >= 0)
        {
            _unsubmitted -= (uint)result;
        }
        else if (result is not (-Errno.EINTR or -Errno.EAGAIN or -Errno.EBUSY or -Errno.ETIME))
        {
            throw new IOException($"io_uring_enter failed: {Marshal.GetPInvokeErrorMessage(-result)} (errno {-result}).", -result);
        }
        Reap();
    }

    private void Reap()
    {
        uint head = *_ring.KCqHead;                              // ours alone
        uint tail = RingBarriers.LoadAcquire(_ring.KCqTail);     // acquire: CQEs up to tail are written
        while (head != tail)
        {
            IoUringCqe* cqe = _ring.Cqes + (head & _ring.CqMask);
            ulong userData = cqe->UserData;
            int result = cqe->Res;
            head++;
            if (userData == EventFdReadUserData)
            {
                _eventFdArmed = false;
                if (!_stopping)
                {
                    ArmEventFdRead(); // a producer woke us; keep the next wakeup armed
                }
                continue;
            }
            if (userData == CancelUserData)
            {
                continue; // the answer does not matter: the target's own CQE says what happened
            }
            int index = (int)(uint)userData;
            AioFileOperation operation = _slots[index]!;
            Debug.Assert(_generations[index] == (uint)(userData >> 32));
            _slots[index] = null;
            _free[_freeCount++] = index;
            _inFlight--;
            if (_writeEpochs[index] >= 0)
            {
                _barrier.WriteFinished(_writeEpochs[index]);
            }
            Volatile.Write(ref operation.UserData, 0);
            operation.Complete(result);
        }
        // Release: our reads of the CQEs happen before the kernel reuses their entries.
        RingBarriers.StoreRelease(_ring.KCqHead, head);
        while (_barrier.TryRelease(out AioFileOperation? flush))
        {
            _releasedFlushes.Enqueue(flush);
        }
    }
}
