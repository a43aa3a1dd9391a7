using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// The io_uring engine: one ring per context, driven from managed code through raw system calls.
/// </summary>
/// <remarks>
/// <para>1. Who touches what. Submitters (serialized by the context's submit lock, and by <c>_sqLock</c> here, which
/// Wakeup shares) own the SQ tail and the SQEs. The reaper — the thread in Wait, or a canceller waiting for a CQE —
/// owns the CQ head, under <c>_cqLock</c>. Slots (<see cref="IoUringSlot"/>) are claimed from a free list under
/// <c>_freeLock</c> and move between states by compare-and-swap, so the reaper and a canceller agree on who finishes
/// a request.</para>
/// <para>2. Ordering with the kernel (liburing's rules): SQEs are written, then the SQ tail is stored with release;
/// the CQ tail is loaded with acquire before any CQE is read, and the CQ head is stored with release once per batch
/// after the CQEs were read; a full fence precedes reading the kernel's SQ flags. See <see cref="RingBarriers"/>.</para>
/// <para>3. Submission. The SQ is empty whenever no Start is running: each Start writes up to a ring's worth of
/// SQEs, submits them, and takes back (by lowering the tail it had published) any the kernel did not consume —
/// the kernel reads the SQ only inside <c>io_uring_enter</c>, which we serialize. In-flight requests never exceed
/// the slots, and the CQ is sized for every slot plus the few internal NOPs, so the CQ cannot overflow in normal use;
/// if it ever does (NODROP), a GETEVENTS enter flushes the kernel's overflow list.</para>
/// <para>4. Wakeup posts a NOP whose CQE wakes the waiter; at most one is in the ring at a time (<c>_wakeupArmed</c>),
/// and the reaper that consumes it clears the flag and returns Interrupted: one wakeup, one Interrupted. A
/// SINGLE_ISSUER ring (a SingleThreaded context) cannot be entered by other threads, so there Wakeup writes to an
/// eventfd whose read the ring keeps armed, and the read's CQE is the wakeup.</para>
/// <para>5. Cancel asks the kernel (IORING_REGISTER_SYNC_CANCEL, else IORING_OP_ASYNC_CANCEL) and, when the kernel
/// says it cancelled or finished the operation, waits for the operation's own CQE: -ECANCELED means it never ran and
/// the request is cancelled (never reported); anything else is handed to Wait. So the contract's "Canceled" comes with
/// the kernel's proof that it is done with the buffer, and the CQE never reaches a reused slot.</para>
/// <para>6. A file handle's descriptor is kept open by the reference the request's pins hold (AioRequest.Pin), so
/// the fd written into an SQE stays valid until the CQE is reaped.</para>
/// <para>7. Flushes wait in <see cref="FlushBarrier{T}"/> until the writes submitted before them have completed, then
/// go in as plain fsyncs (IOSQE_IO_DRAIN would also hold back the wakeup NOPs).</para>
/// <para>SINGLE_ISSUER and DEFER_TASKRUN are used only for SingleThreaded contexts: they tie the ring to one thread,
/// and a context may otherwise be driven from several. A registered ring fd is never used here: the registration
/// lives in one thread's io_uring context; the async layer's ring threads, which each own a ring, use it.</para>
/// </remarks>
internal sealed unsafe class IoUringEngine : IAioEngine
{
    /// <summary>CQ entries kept for internal NOPs and cancel answers: one wakeup, one kick, one async cancel.</summary>
    private const int ReservedCqEntries = 8;

    /// <summary>The kernel's ceiling for a CQ (IORING_MAX_CQ_ENTRIES = 2 × 32768), less the reserved entries.</summary>
    public const int MaxOutstanding = 65536 - ReservedCqEntries;

#if DEBUG
    /// <summary>Small in DEBUG builds, so that every test runs the SQ wrap-around and multi-round submit paths.</summary>
    private const uint MaxSqEntries = 16;
#else
    /// <summary>A ring's worth of SQEs per io_uring_enter; larger batches are submitted in rounds.</summary>
    private const uint MaxSqEntries = 4096;
#endif

    private const ulong WakeupUserData = ulong.MaxValue;
    private const ulong KickUserData = ulong.MaxValue - 1;
    private const ulong CancelUserData = ulong.MaxValue - 2;
    private const ulong FirstInternalUserData = CancelUserData;

    private readonly IoUringRing _ring;
    private readonly RegisteredResources _registered;   // files and buffers registered through Associate*
    private readonly bool _hasSyncCancel;
    private readonly IoUringSlot[] _slots;

    // ---- SQ side, guarded by _sqLock.
    private readonly Lock _sqLock = new();
    private uint _sqTail;
    private readonly int[] _claimed;            // slot indices of the round being submitted
    private readonly uint[] _sqePosition;       // for each request of the round: its SQE's position, or MaxValue when held
    private readonly bool[] _heldScratch;       // for each request of the round: a flush the barrier holds
    private readonly int[] _released;           // flushes the barrier let go, to submit

    // ---- The flush barrier (SPEC §3), guarded by _barrierLock; taken inside _sqLock or _cqLock, never around them.
    private readonly Lock _barrierLock = new();
    private readonly FlushBarrier<int> _barrier = new();
    private IoVec* _iovecs;                     // iovec arrays of the round's vectored requests (kernel copies them at submit)
    private int _iovecCapacity;

    // ---- Free slots, guarded by _freeLock.
    private readonly Lock _freeLock = new();
    private readonly int[] _free;
    private int _freeCount;
    private int _inUse;                         // slots not Free (Interlocked)

    // ---- CQ side, guarded by _cqLock.
    private readonly Lock _cqLock = new();
    private readonly int[] _freed;              // slots freed by the current harvest, returned in one go
    private readonly long[] _finishedWrites;    // epochs of the writes the current harvest finished
    private readonly AioRequest[] _harvestScratch;

    /// <summary>Completions reaped by a canceller (or handed over by one), for the next Wait.</summary>
    private readonly ConcurrentQueue<AioRequest> _ready = new();

    private int _finishedWriteCount;            // entries of _finishedWrites used by the current harvest (under _cqLock)
    private int _wakeupArmed;                   // 1 while a wakeup NOP is in the ring, unconsumed

    // ---- SINGLE_ISSUER rings (SingleThreaded contexts): wakeups through an eventfd read kept armed in the ring.
    private readonly bool _singleIssuer;
    private readonly bool _deferTaskrun;        // completion work runs only when the owner enters with GETEVENTS
    private readonly int _eventFd = -1;
    private readonly ulong* _eventFdValue;
    private bool _eventFdArmed;                 // owner thread only
    private bool _stopping;                     // teardown: do not re-arm
    private int _kickArmed;                     // 1 while a kick NOP (re-check _ready) is in the ring

    // ---- Fallback cancel (kernels without IORING_REGISTER_SYNC_CANCEL): one at a time, answer in a mailbox.
    private readonly Lock _asyncCancelLock = new();
    private int _asyncCancelAnswer;
    private int _asyncCancelAnswered;

    private bool _disposed;

    public IoUringEngine(int capacity, IoUringSupport support, bool singleThreaded = false)
    {
        Debug.Assert(support.IsSupported);
        uint sqEntries = Math.Min(BitOperations.RoundUpToPowerOf2((uint)capacity), MaxSqEntries);
        uint cqEntries = Math.Max(BitOperations.RoundUpToPowerOf2((uint)(capacity + ReservedCqEntries)), 2 * sqEntries);
        // A context promised to one thread gets the flags that bind the ring to it (see AioContextOptions.SingleThreaded).
        int errno = IoUringRing.TryCreate(sqEntries, cqEntries,
            singleThreaded ? IoUringRing.OwnedRingFlagSets : IoUringRing.SharedRingFlagSets, out IoUringRing? ring);
        if (errno != 0)
        {
            throw new NotSupportedException(IoUringProbe.DescribeSetupError(errno));
        }
        if (ring!.CqEntries < capacity + ReservedCqEntries)
        {
            uint got = ring.CqEntries;
            ring.Dispose();
            throw new NotSupportedException($"The kernel gave a completion queue of {got} entries; {capacity} outstanding requests need more.");
        }
        _ring = ring;
        _registered = new RegisteredResources(ring);
        _singleIssuer = (ring.SetupFlags & IORING_SETUP_SINGLE_ISSUER) != 0;
        _deferTaskrun = (ring.SetupFlags & IORING_SETUP_DEFER_TASKRUN) != 0;
        _hasSyncCancel = support.HasSyncCancel;
        _slots = new IoUringSlot[capacity];
        _free = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _free[i] = capacity - 1 - i;
        }
        _freeCount = capacity;
        _claimed = new int[_ring.SqEntries];
        _sqePosition = new uint[_ring.SqEntries];
        _heldScratch = new bool[_ring.SqEntries];
        _released = new int[_ring.SqEntries];
        _finishedWrites = new long[_ring.CqEntries];
        _freed = new int[_ring.CqEntries];
        _harvestScratch = new AioRequest[_ring.CqEntries];
        if (_singleIssuer)
        {
            // Other threads may not enter a SINGLE_ISSUER ring, so Wakeup cannot post a NOP: it writes to an eventfd
            // whose read the ring keeps armed instead (created here, on the owning thread).
            _eventFd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC);
            if (_eventFd < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                _ring.Dispose();
                throw new IOException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).", error);
            }
            _eventFdValue = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
            ArmEventFdRead();
        }
    }

    /// <summary>Keeps a read of the wakeup eventfd in the ring (SINGLE_ISSUER rings); its CQE is a wakeup.</summary>
    private void ArmEventFdRead()
    {
        lock (_sqLock)
        {
            SqePrep.Transfer(_ring.Sqe(_sqTail), read: true, _eventFd, -1, (byte*)_eventFdValue, sizeof(ulong), WakeupUserData);
            RingBarriers.StoreRelease(_ring.KSqTail, _sqTail + 1);
            SubmitOneOrFail();
            _sqTail++;
            _eventFdArmed = true;
        }
    }

    public AioEngineKind Kind => AioEngineKind.IoUring;

    /// <summary>Registers the file with the ring (a sparse registered-file table, Linux 5.19): its operations then
    /// skip the kernel's per-operation file lookup. Where the kernel refuses, the plain fd is used.</summary>
    public void AssociateWithFile(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        lock (_sqLock)
        {
            _registered.AddFile(file);
        }
    }

    /// <summary>Registers the buffer with the ring (fixed buffers): transfers inside it skip pinning its pages.</summary>
    public void AssociateWithBuffer(Memory<byte> buffer)
    {
        lock (_sqLock)
        {
            _registered.AddBuffer(buffer);
        }
    }

    // ============================================================================================================
    // Submission

    public int Start(ReadOnlySpan<AioRequest> requests, out int refusedErrno)
    {
        refusedErrno = 0;
        int accepted = 0;
        lock (_sqLock)
        {
            while (accepted < requests.Length)
            {
                int round = ClaimSlots(Math.Min(requests.Length - accepted, (int)_ring.SqEntries));
                if (round == 0)
                {
                    break; // every slot is in flight: the context's capacity is the limit, so this is only a guard
                }
                ReadOnlySpan<AioRequest> batch = requests.Slice(accepted, round);
                PrepareIovecs(batch);
                bool[] held = EnterBarrier(batch);

                // SQEs for everything but the flushes the barrier holds; _sqePosition maps each request to its SQE.
                uint tail = _sqTail;
                uint written = 0;
                int iovec = 0;
                for (int i = 0; i < round; i++)
                {
                    BindSlot(batch[i], _claimed[i]);
                    _sqePosition[i] = held[i] ? uint.MaxValue : written;
                    if (!held[i])
                    {
                        FillSqe(_ring.Sqe(tail + written), batch[i], _claimed[i], ref iovec);
                        written++;
                    }
                }
                // Release: the kernel must see every SQE we wrote before it sees the new tail.
                RingBarriers.StoreRelease(_ring.KSqTail, tail + written);
                int submitted = written == 0 ? 0 : EnterToSubmit(written, out refusedErrno);

                // Requests are accepted in order, up to the first whose SQE the kernel did not consume.
                int cut = round;
                for (int i = 0; i < round; i++)
                {
                    if (_sqePosition[i] != uint.MaxValue && _sqePosition[i] >= (uint)submitted)
                    {
                        cut = i;
                        break;
                    }
                }
                if (cut < round)
                {
                    // Take back the SQEs the kernel did not consume; those requests go back to Prepared.
                    RingBarriers.StoreRelease(_ring.KSqTail, tail + (uint)submitted);
                    LeaveBarrier(batch, cut);
                    for (int i = cut; i < round; i++)
                    {
                        ReleaseUnsubmitted(_claimed[i]);
                    }
                }
                _sqTail = tail + (uint)submitted;
                accepted += cut;

                if (cut < round)
                {
                    if (IsTransientSubmitError(refusedErrno))
                    {
                        refusedErrno = 0; // not a refusal of that request: the caller may reap and submit again
                    }
                    break;
                }
                refusedErrno = 0;
            }
        }
        return accepted;
    }

    /// <summary>Counts the round's writes with the flush barrier and asks it about the round's flushes; returns which
    /// flushes it holds back.</summary>
    private bool[] EnterBarrier(ReadOnlySpan<AioRequest> batch)
    {
        bool involved = false;
        foreach (AioRequest request in batch)
        {
            involved |= request.Kind != AioOperationKind.Read;
        }
        if (!involved)
        {
            // A round of reads only (the hot path of a read benchmark): the barrier has nothing to count.
            for (int i = 0; i < batch.Length; i++)
            {
                _slots[_claimed[i]].WriteEpoch = -1;
                _heldScratch[i] = false;
            }
            return _heldScratch;
        }
        lock (_barrierLock)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                ref IoUringSlot slot = ref _slots[_claimed[i]];
                slot.WriteEpoch = batch[i].Kind == AioOperationKind.Write ? _barrier.WriteStarted() : -1;
                _heldScratch[i] = batch[i].Kind == AioOperationKind.Flush && !_barrier.TryPass(_claimed[i]);
            }
        }
        return _heldScratch;
    }

    /// <summary>Undoes <see cref="EnterBarrier"/> for the requests from <paramref name="from"/> on (not accepted).</summary>
    private void LeaveBarrier(ReadOnlySpan<AioRequest> batch, int from)
    {
        lock (_barrierLock)
        {
            for (int i = from; i < batch.Length; i++)
            {
                ref IoUringSlot slot = ref _slots[_claimed[i]];
                if (slot.WriteEpoch >= 0)
                {
                    _barrier.WriteFinished(slot.WriteEpoch);
                }
                if (_heldScratch[i])
                {
                    _barrier.TryRemove(_claimed[i]);
                }
            }
        }
    }

    /// <summary>Submits the flushes whose earlier writes have now all completed. Called after writes finish.</summary>
    private void SubmitReleasedFlushes()
    {
        lock (_sqLock)
        {
            int count = 0;
            lock (_barrierLock)
            {
                while (count < _released.Length && _barrier.TryRelease(out int index))
                {
                    _released[count++] = index;
                }
            }
            for (int i = 0; i < count; i++)
            {
                int index = _released[i];
                int iovec = 0;
                FillSqe(_ring.Sqe(_sqTail), _slots[index].Request!, index, ref iovec);
                RingBarriers.StoreRelease(_ring.KSqTail, _sqTail + 1);
                SubmitOneOrFail();
                _sqTail++;
            }
        }
    }

    /// <summary>EAGAIN (no memory for requests right now) and EBUSY (completions must be reaped first): the caller
    /// sees fewer requests accepted and may reap and submit again.</summary>
    private static bool IsTransientSubmitError(int errno) => errno is Errno.EAGAIN or Errno.EBUSY or Errno.ENOMEM;

    /// <summary>Submits <paramref name="count"/> SQEs; returns how many the kernel consumed (errno set when fewer).</summary>
    private int EnterToSubmit(uint count, out int errno)
    {
        while (true)
        {
            int result = _ring.Enter(count, 0, 0, null, 0);
            if (result >= 0)
            {
                errno = 0;
                return result;
            }
            errno = -result;
            if (errno != Errno.EINTR)
            {
                return 0;
            }
        }
    }

    private int ClaimSlots(int wanted)
    {
        int count;
        lock (_freeLock)
        {
            count = Math.Min(wanted, _freeCount);
            for (int i = 0; i < count; i++)
            {
                _claimed[i] = _free[--_freeCount];
            }
        }
        Interlocked.Add(ref _inUse, count);
        return count;
    }

    private void ReturnSlots(ReadOnlySpan<int> indices)
    {
        lock (_freeLock)
        {
            foreach (int index in indices)
            {
                _free[_freeCount++] = index;
            }
        }
        Interlocked.Add(ref _inUse, -indices.Length);
    }

    private void ReleaseUnsubmitted(int index)
    {
        ref IoUringSlot slot = ref _slots[index];
        slot.Request = null;
        Volatile.Write(ref slot.Word, IoUringSlot.Make(IoUringSlot.GenerationOf(slot.Word), IoUringSlot.Free));
        ReturnSlots([index]);
    }

    /// <summary>Makes room for the iovec arrays of this round's vectored requests. With IORING_FEAT_SUBMIT_STABLE
    /// (required) the kernel copies them during io_uring_enter, so one buffer reused every round suffices.</summary>
    private void PrepareIovecs(ReadOnlySpan<AioRequest> batch)
    {
        int needed = 0;
        foreach (AioRequest request in batch)
        {
            if (request.SegmentCount > 1)
            {
                needed += request.SegmentCount;
            }
        }
        if (needed > _iovecCapacity)
        {
            NativeMemory.Free(_iovecs);
            _iovecs = (IoVec*)NativeMemory.Alloc((nuint)needed, (nuint)sizeof(IoVec));
            _iovecCapacity = needed;
        }
    }

    /// <summary>Puts a request in its slot, in flight, under a new generation.</summary>
    private void BindSlot(AioRequest request, int index)
    {
        ref IoUringSlot slot = ref _slots[index];
        uint generation = IoUringSlot.GenerationOf(slot.Word) + 1;
        slot.Request = request;
        Volatile.Write(ref slot.Word, IoUringSlot.Make(generation, IoUringSlot.InFlight));
        request.EngineSequence = (long)IoUringSlot.UserData(index, generation);
    }

    /// <summary>Writes every field of one SQE (zeroed first, then set) for the request bound to slot <paramref name="index"/>.</summary>
    private void FillSqe(IoUringSqe* sqe, AioRequest request, int index, ref int iovec)
    {
        ulong userData = (ulong)request.EngineSequence;
        Debug.Assert(IoUringSlot.IndexOf(userData) == index);

        int fd = (int)request.File!.DangerousGetHandle();
        switch (request.Kind)
        {
            case AioOperationKind.Read or AioOperationKind.Write when request.SegmentCount == 1:
                byte* buffer = request.SegmentPointer(0);
                int length = request.Segment(0).Length;
                int bufferIndex = _registered.BufferIndexOf(buffer, length);
                if (bufferIndex >= 0)
                {
                    SqePrep.TransferFixed(sqe, request.Kind == AioOperationKind.Read, fd, request.Offset, buffer, length, (ushort)bufferIndex, userData);
                }
                else
                {
                    SqePrep.Transfer(sqe, request.Kind == AioOperationKind.Read, fd, request.Offset, buffer, length, userData);
                }
                break;
            case AioOperationKind.Read or AioOperationKind.Write:
                IoVec* vectors = _iovecs + iovec;
                for (int i = 0; i < request.SegmentCount; i++)
                {
                    vectors[i].Base = request.SegmentPointer(i);
                    vectors[i].Length = (nuint)request.Segment(i).Length;
                }
                iovec += request.SegmentCount;
                SqePrep.TransferVectored(sqe, request.Kind == AioOperationKind.Read, fd, request.Offset, vectors, request.SegmentCount, userData);
                break;
            case AioOperationKind.Flush:
                // A plain fsync: the FlushBarrier already held it until the writes before it completed.
                SqePrep.Fsync(sqe, fd, request.DataOnly, userData);
                break;
            default:
                throw new InvalidOperationException($"Unexpected operation {request.Kind}.");
        }
        int fileIndex = _registered.FileIndexOf(request.File);
        if (fileIndex >= 0)
        {
            SqePrep.UseFixedFile(sqe, fileIndex);
        }
    }

    /// <summary>Posts one internal NOP. It must reach the kernel (a lost wakeup would hang a waiter), so transient
    /// refusals are retried.</summary>
    private void PostNop(ulong userData)
    {
        lock (_sqLock)
        {
            if (_disposed)
            {
                return;
            }
            SqePrep.Nop(_ring.Sqe(_sqTail), userData);
            RingBarriers.StoreRelease(_ring.KSqTail, _sqTail + 1);
            SubmitOneOrFail();
            _sqTail++;
        }
    }

    /// <summary>Submits the one SQE just published. It must reach the kernel (a lost wakeup or flush would hang a
    /// waiter), so transient refusals are retried and anything else fails the process loudly.</summary>
    private void SubmitOneOrFail()
    {
        while (EnterToSubmit(1, out int errno) != 1)
        {
            if (!IsTransientSubmitError(errno))
            {
                Environment.FailFast($"FileAio: io_uring refused an internal submission (errno {errno}); waiters could hang.");
            }
            Thread.Sleep(1);
        }
    }

    // ============================================================================================================
    // Completion

    public int Reap(int minCompletions, Deadline deadline, Span<AioRequest> completed, out AioWaitReason reason)
    {
        int count = 0;
        bool interrupted = false;
        bool overflowFlushed = false;
        bool taskWorkRun = false;
        while (true)
        {
            lock (_cqLock)
            {
                // Harvest first: it consumes the kick that announced _ready, so a kick posted after this point is a
                // new one, and the _ready items it announces are taken below or on the next round.
                count += HarvestUnsynchronized(completed[count..], ref interrupted);
                count += TakeReady(completed[count..]);
            }
            if (interrupted)
            {
                // The wakeup was consumed by this call: report it even if enough completions came with it.
                reason = AioWaitReason.Interrupted;
                return count;
            }
            if (count >= minCompletions)
            {
                reason = AioWaitReason.Completed;
                return count;
            }
            if (deadline.HasExpired)
            {
                if (_deferTaskrun && !taskWorkRun)
                {
                    // DEFER_TASKRUN: completions are posted only when the owner asks for events. Ask once, then look.
                    _ring.Enter(0, 0, IORING_ENTER_GETEVENTS, null, 0);
                    taskWorkRun = true;
                    continue;
                }
                if (!overflowFlushed && FlushOverflow())
                {
                    overflowFlushed = true;
                    continue;
                }
                reason = AioWaitReason.TimedOut;
                return count;
            }
            // Ask the kernel for one CQE, not for all we still need: its wake target is fixed at entry, so a wakeup
            // NOP (or a kick) alone would not end a wait for several. The loop counts in user space.
            WaitForCqes(1, deadline);
        }
    }

    private int TakeReady(Span<AioRequest> output)
    {
        int n = 0;
        while (n < output.Length && _ready.TryDequeue(out AioRequest? request))
        {
            output[n++] = request;
        }
        return n;
    }

    /// <summary>Consumes the CQEs the kernel has posted (as many as fit in <paramref name="output"/>). Caller holds
    /// <c>_cqLock</c>.</summary>
    private int HarvestUnsynchronized(Span<AioRequest> output, ref bool interrupted)
    {
        uint head = *_ring.KCqHead;                              // ours: only the reaper (under _cqLock) stores it
        uint tail = RingBarriers.LoadAcquire(_ring.KCqTail);     // acquire: the CQEs up to tail are fully written
        int n = 0, freed = 0;
        _finishedWriteCount = 0;
        while (head != tail && n < output.Length)
        {
            IoUringCqe* cqe = _ring.Cqes + (head & _ring.CqMask);
            ulong userData = cqe->UserData;
            int result = cqe->Res;
            head++;
            if (userData >= FirstInternalUserData)
            {
                OnInternalCqe(userData, result, ref interrupted);
                continue;
            }
            AioRequest? request = OnCqe(userData, result, ref freed);
            if (request is not null)
            {
                output[n++] = request;
            }
        }
        // Release: our reads of the CQEs above happen before the kernel may overwrite their entries.
        RingBarriers.StoreRelease(_ring.KCqHead, head);
        if (freed > 0)
        {
            ReturnSlots(_freed.AsSpan(0, freed));
        }
        if (_finishedWriteCount > 0)
        {
            FinishWrites(_finishedWrites.AsSpan(0, _finishedWriteCount));
        }
        return n;
    }

    /// <summary>Tells the barrier that writes completed, and submits the flushes that were waiting for them.</summary>
    private void FinishWrites(ReadOnlySpan<long> epochs)
    {
        bool release;
        lock (_barrierLock)
        {
            foreach (long epoch in epochs)
            {
                _barrier.WriteFinished(epoch);
            }
            release = _barrier.HasHeldFlushes;
        }
        if (release)
        {
            SubmitReleasedFlushes();
        }
    }

    /// <summary>One CQE of a request: hand it out, or park it for a canceller that is deciding about it.</summary>
    private AioRequest? OnCqe(ulong userData, int result, ref int freed)
    {
        int index = IoUringSlot.IndexOf(userData);
        uint generation = IoUringSlot.GenerationOf(userData);
        ref IoUringSlot slot = ref _slots[index];
        long inFlight = IoUringSlot.Make(generation, IoUringSlot.InFlight);
        long cancelRequested = IoUringSlot.Make(generation, IoUringSlot.CancelRequested);
        while (true)
        {
            long word = Volatile.Read(ref slot.Word);
            if (word == inFlight)
            {
                AioRequest request = slot.Request!;
                if (Interlocked.CompareExchange(ref slot.Word, IoUringSlot.Make(generation, IoUringSlot.Free), inFlight) == inFlight)
                {
                    slot.Request = null;
                    if (slot.WriteEpoch >= 0)
                    {
                        _finishedWrites[_finishedWriteCount++] = slot.WriteEpoch;
                    }
                    request.EngineResult = result; // a byte count, or -errno
                    _freed[freed++] = index;
                    return request;
                }
            }
            else if (word == cancelRequested)
            {
                slot.ParkedResult = result; // published by the compare-and-swap below
                if (Interlocked.CompareExchange(ref slot.Word, IoUringSlot.Make(generation, IoUringSlot.CompletedDuringCancel), cancelRequested) == cancelRequested)
                {
                    return null; // the canceller takes it from here
                }
            }
            else
            {
                Debug.Fail($"CQE for slot {index} generation {generation} found word 0x{word:x}.");
                return null;
            }
        }
    }

    private void OnInternalCqe(ulong userData, int result, ref bool interrupted)
    {
        switch (userData)
        {
            case WakeupUserData when _singleIssuer:
                _eventFdArmed = false;
                if (!_stopping)
                {
                    interrupted = result >= 0;
                    ArmEventFdRead(); // the eventfd's count was read (and reset): arm for the next wakeup
                }
                break;
            case WakeupUserData:
                interrupted = true;
                Interlocked.Exchange(ref _wakeupArmed, 0); // consumed: the next Wakeup posts a new NOP (full fence pairs with its CAS)
                break;
            case KickUserData:
                Interlocked.Exchange(ref _kickArmed, 0); // its only job was to end a sleep; _ready is checked each round
                break;
            case CancelUserData:
                Volatile.Write(ref _asyncCancelAnswer, result);
                Volatile.Write(ref _asyncCancelAnswered, 1);
                break;
        }
    }

    /// <summary>Asks the kernel to cancel one request by user_data, without waiting for its CQE.</summary>
    private void SyncOrAsyncCancelOne(ulong userData)
    {
        if (_hasSyncCancel)
        {
            SyncCancel(userData); // zero timeout: it does not wait for a running request
            return;
        }
        lock (_sqLock)
        {
            SqePrep.Cancel(_ring.Sqe(_sqTail), userData, 0, CancelUserData);
            RingBarriers.StoreRelease(_ring.KSqTail, _sqTail + 1);
            SubmitOneOrFail();
            _sqTail++;
        }
    }

    private uint SqRoom() => _ring.SqEntries - (_sqTail - RingBarriers.LoadAcquire(_ring.KSqHead));

    /// <summary>Blocks in io_uring_enter until <paramref name="minComplete"/> new CQEs, the deadline, or a signal
    /// (the caller loops and recomputes the time left).</summary>
    private void WaitForCqes(uint minComplete, Deadline deadline)
    {
        KernelTimespec timespec = default;
        IoUringGetEventsArg arg = default;
        if (!deadline.IsInfinite)
        {
            TimeSpan left = deadline.Remaining;
            timespec.Seconds = left.Ticks / TimeSpan.TicksPerSecond;
            timespec.Nanoseconds = left.Ticks % TimeSpan.TicksPerSecond * 100;
            arg.Ts = (ulong)&timespec;
        }
        int result = _ring.Enter(0, minComplete, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, (nuint)sizeof(IoUringGetEventsArg));
        if (result < 0 && result != -Errno.ETIME && result != -Errno.EINTR && result != -Errno.EBUSY && result != -Errno.EAGAIN)
        {
            throw new IOException($"io_uring_enter failed while waiting: {Marshal.GetPInvokeErrorMessage(-result)} (errno {-result}).", -result);
        }
    }

    /// <summary>With NODROP, CQEs that found the CQ full wait in a kernel list until a GETEVENTS enter flushes them.
    /// True when the kernel said it had some.</summary>
    private bool FlushOverflow()
    {
        // Full fence: our CQ head store must be visible before we read the flag the kernel sets from it.
        RingBarriers.FullFence();
        if ((RingBarriers.LoadAcquire(_ring.KSqFlags) & IORING_SQ_CQ_OVERFLOW) == 0)
        {
            return false;
        }
        _ring.Enter(0, 0, IORING_ENTER_GETEVENTS, null, 0);
        return true;
    }

    // ============================================================================================================
    // Wakeup

    public void Wakeup()
    {
        if (_singleIssuer)
        {
            // Any thread: the eventfd's counter coalesces wakeups until the armed read takes them.
            ulong one = 1;
            Syscalls.Write(_eventFd, &one, sizeof(ulong));
            return;
        }
        // One wakeup NOP in the ring at a time: further wakeups before a Wait consumes it coalesce into it.
        if (Interlocked.CompareExchange(ref _wakeupArmed, 1, 0) == 0)
        {
            PostNop(WakeupUserData);
        }
    }

    /// <summary>Ends a Wait's sleep without a wakeup, so it looks at completions a canceller handed over.</summary>
    private void Kick()
    {
        if (Interlocked.CompareExchange(ref _kickArmed, 1, 0) == 0)
        {
            PostNop(KickUserData);
        }
    }

    // ============================================================================================================
    // Cancel

    public EngineCancelResult Cancel(AioRequest request)
    {
        ulong userData = (ulong)request.EngineSequence;
        int index = IoUringSlot.IndexOf(userData);
        uint generation = IoUringSlot.GenerationOf(userData);
        if ((uint)index >= (uint)_slots.Length)
        {
            return EngineCancelResult.NotHeld;
        }
        ref IoUringSlot slot = ref _slots[index];
        long inFlight = IoUringSlot.Make(generation, IoUringSlot.InFlight);
        long cancelRequested = IoUringSlot.Make(generation, IoUringSlot.CancelRequested);
        if (request.Kind == AioOperationKind.Flush && TryCancelHeldFlush(ref slot, index, inFlight))
        {
            return EngineCancelResult.Canceled; // the barrier still held it: it never reached the kernel
        }
        if (Interlocked.CompareExchange(ref slot.Word, cancelRequested, inFlight) != inFlight)
        {
            long word = Volatile.Read(ref slot.Word);
            return IoUringSlot.GenerationOf(word) == generation && IoUringSlot.StateOf(word) != IoUringSlot.Free
                ? EngineCancelResult.InProgress         // another caller is cancelling it right now: not free yet
                : EngineCancelResult.AlreadyCompleted;  // reaped: Wait reports it (or has)
        }

        int answer = _hasSyncCancel ? SyncCancel(userData) : AsyncCancel(userData);
        if (answer == 0)
        {
            // The kernel cancelled it, or (sync cancel) it was running and has finished meanwhile. Its CQE decides.
            long parked = IoUringSlot.Make(generation, IoUringSlot.CompletedDuringCancel);
            IoUringSlot[] slots = _slots;
            ReapUntil(() => Volatile.Read(ref slots[index].Word) == parked);
            return FinishParked(ref slot, index, generation, request);
        }

        // Not found (finished, or waiting where it cannot be cancelled), or running (-ETIME: the kernel tried and the
        // operation goes on): Wait will report it.
        if (Interlocked.CompareExchange(ref slot.Word, inFlight, cancelRequested) == cancelRequested)
        {
            return EngineCancelResult.InProgress;
        }
        return FinishParked(ref slot, index, generation, request); // its CQE arrived while we asked
    }

    private bool TryCancelHeldFlush(ref IoUringSlot slot, int index, long inFlight)
    {
        lock (_barrierLock)
        {
            if (!_barrier.TryRemove(index))
            {
                return false;
            }
        }
        bool freed = Interlocked.CompareExchange(ref slot.Word,
            IoUringSlot.Make(IoUringSlot.GenerationOf(inFlight), IoUringSlot.Free), inFlight) == inFlight;
        Debug.Assert(freed, "A held flush is in no one else's hands.");
        slot.Request = null;
        ReturnSlots([index]);
        return true;
    }

    /// <summary>Settles a CQE parked for this canceller: -ECANCELED means the operation never ran (Canceled, never
    /// reported); anything else is a real result that Wait must report.</summary>
    private EngineCancelResult FinishParked(ref IoUringSlot slot, int index, uint generation, AioRequest request)
    {
        Debug.Assert(Volatile.Read(ref slot.Word) == IoUringSlot.Make(generation, IoUringSlot.CompletedDuringCancel));
        int result = slot.ParkedResult;
        long writeEpoch = slot.WriteEpoch;
        slot.Request = null;
        Volatile.Write(ref slot.Word, IoUringSlot.Make(generation, IoUringSlot.Free));
        ReturnSlots([index]);
        if (writeEpoch >= 0)
        {
            FinishWrites([writeEpoch]);
        }
        if (result == -Errno.ECANCELED)
        {
            return EngineCancelResult.Canceled;
        }
        request.EngineResult = result;
        _ready.Enqueue(request);
        Kick(); // a Wait asleep in the kernel must look at _ready
        return EngineCancelResult.AlreadyCompleted;
    }

    private int SyncCancel(ulong userData)
    {
        IoUringSyncCancelReg reg = default;
        reg.Addr = userData;            // flags 0: match on user_data
        reg.Fd = -1;
        // A zero timeout: a request the kernel could only try to stop (-EALREADY: running in io-wq) answers -ETIME at
        // once instead of blocking the canceller until it finishes — on a hung device, for ever. It is InProgress.
        reg.Timeout.Seconds = 0;
        reg.Timeout.Nanoseconds = 0;
        while (true)
        {
            int result = _ring.Register(IORING_REGISTER_SYNC_CANCEL, &reg, 1);
            if (result != -Errno.EINTR)
            {
                return result;
            }
        }
    }

    /// <summary>Cancel through an IORING_OP_ASYNC_CANCEL SQE (kernels before 6.0) and wait for its answer: 0 found
    /// and cancelled, -ENOENT not found, -EALREADY running.</summary>
    private int AsyncCancel(ulong userData)
    {
        lock (_asyncCancelLock)
        {
            Volatile.Write(ref _asyncCancelAnswered, 0);
            lock (_sqLock)
            {
                SqePrep.Cancel(_ring.Sqe(_sqTail), userData, 0, CancelUserData);
                RingBarriers.StoreRelease(_ring.KSqTail, _sqTail + 1);
                while (EnterToSubmit(1, out int errno) != 1)
                {
                    if (!IsTransientSubmitError(errno))
                    {
                        return -errno;
                    }
                    Thread.Sleep(1);
                }
                _sqTail++;
            }
            ReapUntil(() => Volatile.Read(ref _asyncCancelAnswered) != 0);
            return Volatile.Read(ref _asyncCancelAnswer);
        }
    }

    /// <summary>
    /// Waits for a CQE a canceller needs. If no Wait is reaping, the canceller reaps itself: completions it finds
    /// go to <c>_ready</c> and a kick makes a sleeping Wait look at them. Sleeps in short slices, since a CQE
    /// consumed by the other reaper between our check and our sleep would not end the sleep.
    /// </summary>
    private void ReapUntil(Func<bool> done)
    {
        var spinner = new SpinWait();
        while (!done())
        {
            if (_cqLock.TryEnter())
            {
                int handedOver;
                bool interrupted = false;
                try
                {
                    handedOver = HarvestUnsynchronized(_harvestScratch, ref interrupted);
                    for (int i = 0; i < handedOver; i++)
                    {
                        _ready.Enqueue(_harvestScratch[i]);
                        _harvestScratch[i] = null!;
                    }
                }
                finally
                {
                    _cqLock.Exit();
                }
                if (interrupted)
                {
                    // We consumed a user's wakeup while reaping for ourselves: give it back to the waiter.
                    Wakeup();
                }
                if (handedOver > 0)
                {
                    Kick();
                }
                if (done())
                {
                    return;
                }
                KernelTimespec slice = new() { Nanoseconds = 1_000_000 };
                IoUringGetEventsArg arg = new() { Ts = (ulong)&slice };
                _ring.Enter(0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, (nuint)sizeof(IoUringGetEventsArg));
            }
            else
            {
                spinner.SpinOnce(); // the waiter is harvesting right now
            }
        }
    }

    // ============================================================================================================
    // Teardown

    public void CancelAllAndDrain(List<AioRequest> canceled, List<AioRequest> completed)
    {
        _stopping = true;
        if (_eventFdArmed)
        {
            // The armed eventfd read must end before its 8-byte buffer is freed; cancel it and reap it below.
            SyncOrAsyncCancelOne(WakeupUserData);
        }
        // Ask the kernel to cancel everything it can (running disk I/O it cannot stop finishes on its own).
        if (Volatile.Read(ref _inUse) > 0)
        {
            if (_hasSyncCancel)
            {
                IoUringSyncCancelReg reg = default;
                reg.Flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
                reg.Fd = -1;
                reg.Timeout.Seconds = 0;
                reg.Timeout.Nanoseconds = 0; // do not wait for running ones here; the loop below does
                _ring.Register(IORING_REGISTER_SYNC_CANCEL, &reg, 1);
            }
            else
            {
                // Before 6.0 there is no sync cancel, and IORING_ASYNC_CANCEL_ANY (5.19) may be missing too: one
                // ASYNC_CANCEL per operation in flight. Their answers do not matter; the operations' CQEs do.
                lock (_sqLock)
                {
                    for (int i = 0; i < _slots.Length; i++)
                    {
                        long word = Volatile.Read(ref _slots[i].Word);
                        if (IoUringSlot.StateOf(word) != IoUringSlot.InFlight || SqRoom() == 0)
                        {
                            continue;
                        }
                        SqePrep.Cancel(_ring.Sqe(_sqTail), IoUringSlot.UserData(i, IoUringSlot.GenerationOf(word)), 0, CancelUserData);
                        _sqTail++;
                    }
                    RingBarriers.StoreRelease(_ring.KSqTail, _sqTail);
                    uint pending = _sqTail - RingBarriers.LoadAcquire(_ring.KSqHead);
                    if (pending > 0)
                    {
                        int consumed = EnterToSubmit(pending, out _);
                        if (consumed < pending)
                        {
                            _sqTail -= pending - (uint)consumed;
                            RingBarriers.StoreRelease(_ring.KSqTail, _sqTail);
                        }
                    }
                }
            }
        }

        // Reap until the kernel owes nothing: every slot is free again.
        while (_ready.TryDequeue(out AioRequest? ready))
        {
            completed.Add(ready);
        }
        while (Volatile.Read(ref _inUse) > 0 || _eventFdArmed)
        {
            bool interrupted = false;
            int n;
            lock (_cqLock)
            {
                n = HarvestUnsynchronized(_harvestScratch, ref interrupted);
            }
            for (int i = 0; i < n; i++)
            {
                AioRequest request = _harvestScratch[i];
                _harvestScratch[i] = null!;
                if (request.EngineResult == -Errno.ECANCELED)
                {
                    canceled.Add(request);
                }
                else
                {
                    completed.Add(request);
                }
            }
            if (n == 0 && (Volatile.Read(ref _inUse) > 0 || _eventFdArmed))
            {
                WaitForCqes(1, Deadline.Infinite);
            }
        }
    }

    public void Dispose()
    {
        lock (_sqLock)
        {
            _disposed = true;
            _ring.Dispose();
            _registered.Release(); // after the ring is gone: the kernel's tables no longer refer to them
            if (_eventFd >= 0)
            {
                Syscalls.Close(_eventFd);
                NativeMemory.Free(_eventFdValue);
            }
            NativeMemory.Free(_iovecs);
            _iovecs = null;
            _iovecCapacity = 0;
        }
    }
}
