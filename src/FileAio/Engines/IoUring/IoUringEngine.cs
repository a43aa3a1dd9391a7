using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using FileAio.Engines.ThreadPool;
using FileAio.Interop;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines.IoUring;

/// <summary>
/// The io_uring engine: the policy over one <see cref="IoUringQueue"/> — which operation goes into which SQE, what a
/// CQE means, flushes held behind writes, cancellation, wakeups and teardown. The same driver serves a context
/// (shared: its callers submit and wait from any thread) and an engine thread of the async layer (owned: one thread
/// drives it alone). This file has construction and submission; Reap, Cancel and Teardown have files of their own.
/// </summary>
/// <remarks>
/// <para>1. Who touches what. Submitters (one Start at a time, and <c>_sqLock</c>, which every SQE writer takes) own
/// the queue's submission side. The reaper — the thread in Reap, or a canceller waiting for a CQE — owns the
/// completion side, under <c>_cqLock</c>. Slots (<see cref="SlotTable"/>) move between states by compare-and-swap,
/// so that the reaper and a canceller agree on who finishes an operation. Lock order: <c>_cqLock</c> before
/// <c>_sqLock</c> before <c>_barrierLock</c>; nothing is taken the other way round.</para>
/// <para>2. Shared engines keep the SQ empty whenever no Start runs: each Start submits before it returns and takes
/// back the SQEs the kernel did not consume, whose operations are then not accepted. An owned engine with
/// <see cref="EngineSettings.DeferSubmission"/> leaves its SQEs for the next Reap, which submits and reaps in one
/// <c>io_uring_enter</c>. In-flight operations never exceed the slots, and the CQ holds every slot plus the few
/// internal entries, so it cannot overflow unless a test makes it small; then the kernel's overflow list (NODROP) is
/// flushed with a GETEVENTS enter.</para>
/// <para>3. Wakeups go through a doorbell: in a shared ring a NOP posted by the waking thread (at most one in the ring
/// at a time); in an owned ring, which other threads may not enter, an eventfd whose read the ring keeps armed. The
/// doorbell's CQE ends the reaper's sleep; a flag says whether it carried a wakeup or only a kick (completions a
/// canceller or the side path handed over), so that one Wakeup is one interruption.</para>
/// <para>4. Flushes are held in their <see cref="FlushScope"/> until the scope's earlier writes have completed, then
/// go in as plain fsyncs (IOSQE_IO_DRAIN would hold back the doorbell too).</para>
/// <para>5. FUSE files never reach the ring: the kernel's io_uring misreads a direct_io FUSE read that comes back
/// short (<see cref="FuseFiles"/>). Their operations run on a side path of positional system calls on worker
/// threads, with a slot like any other, and complete through the same path as CQEs (remark 6 of Reap).</para>
/// <para>6. A file handle's descriptor stays open while an operation is in flight: the operation's pins hold a
/// reference on the handle.</para>
/// <para>7. An async host's engine (<see cref="EngineSettings.RegisterOnFirstUse"/>) registers each file and each small
/// <see cref="Buffers.AlignedBuffer"/> the first time an operation on it goes into an SQE, as a context's
/// AssociateWith* would (<see cref="RegisteredResources"/>): the loop mode then pays what fio pays per read. The async
/// layer forgets a file (<see cref="ForgetFile"/>) before its close completes, since the kernel's table holds the file
/// open.</para>
/// </remarks>
internal sealed unsafe partial class IoUringEngine : IAioEngine
{
    /// <summary>CQ entries kept for internal CQEs: the doorbell and an asynchronous cancel's answer, with room to spare.</summary>
    private const int ReservedCqEntries = 8;

    /// <summary>The kernel's ceiling for a CQ (IORING_MAX_CQ_ENTRIES = 2 × 32768), less the reserved entries.</summary>
    public const int MaxOutstanding = 65536 - ReservedCqEntries;

#if DEBUG
    /// <summary>Small in DEBUG builds, so that every test runs the SQ wrap-around and multi-round submit paths.</summary>
    private const uint DefaultMaxSqEntries = 16;
#else
    /// <summary>A ring's worth of SQEs per io_uring_enter; larger batches are submitted in rounds.</summary>
    private const uint DefaultMaxSqEntries = 4096;
#endif

    private const ulong DoorbellUserData = ulong.MaxValue;
    private const ulong CancelUserData = ulong.MaxValue - 1;
    private const ulong FirstInternalUserData = CancelUserData;

    /// <summary>Routes of a round's operations besides an SQE index (≥ 0).</summary>
    private const int RouteHeld = -1;
    private const int RouteSide = -2;

    private readonly IoUringQueue _queue;
    private readonly SlotTable _slots;
    private readonly bool _owned;
    private readonly bool _deferSubmission;
    private readonly bool _registerOnFirstUse;
    private readonly bool _hasSyncCancel;

    // ---- Submission side, guarded by _sqLock.
    private readonly Lock _sqLock = new();
    private readonly int[] _claimed;            // slot indices of the round being started
    private readonly int[] _route;              // per operation of the round: its SQE index, RouteHeld or RouteSide
    private PositionalWorkers? _sidePath;       // created on the first FUSE operation

    // ---- Flush scopes of this engine's operations, guarded by _barrierLock.
    private readonly Lock _barrierLock = new();

    // ---- Completion side, guarded by _cqLock.
    private readonly Lock _cqLock = new();
    private readonly int[] _freed;              // slots freed by the current harvest, returned in one go
    private readonly IoOperation[] _finishedWrites;
    private int _finishedWriteCount;
    private readonly IoOperation[] _harvestScratch;

    /// <summary>Completions reaped by a canceller (or handed over by one), for the next Reap.</summary>
    private readonly ConcurrentQueue<IoOperation> _ready = new();

    /// <summary>Operations the side path finished, for the next harvest (remark 5).</summary>
    private readonly ConcurrentQueue<IoOperation> _sideDone = new();

    // ---- The doorbell (remark 3).
    private int _wakeupPending;                 // 1 from Wakeup until a reaper reports it
    private int _nopArmed;                      // shared rings: 1 while a doorbell NOP is in the ring
    private readonly int _eventFd = -1;         // owned rings
    private readonly ulong* _eventFdValue;      // the 8 bytes the armed eventfd read fills
    private bool _eventFdArmed;                 // owner only
    private bool _stopping;                     // teardown: do not re-arm

    public IoUringEngine(int capacity, IoUringSupport support, EngineSettings settings)
    {
        Debug.Assert(support.IsSupported);
        uint maxSq = settings.SubmissionQueueEntries > 0 ? settings.SubmissionQueueEntries : DefaultMaxSqEntries;
        uint sqEntries = Math.Min(BitOperations.RoundUpToPowerOf2((uint)capacity), maxSq);
        uint cqEntries = settings.CompletionQueueEntries > 0
            ? settings.CompletionQueueEntries
            : Math.Max(BitOperations.RoundUpToPowerOf2((uint)(capacity + ReservedCqEntries)), 2 * sqEntries);
        int errno = IoUringQueue.TryCreate(sqEntries, cqEntries,
            settings.Owned ? IoUringQueue.OwnedFlagSets : IoUringQueue.SharedFlagSets, out IoUringQueue? queue);
        if (errno != 0)
        {
            throw new NotSupportedException(IoUringProbe.DescribeSetupError(errno));
        }
        if (settings.CompletionQueueEntries == 0 && queue!.CqEntries < capacity + ReservedCqEntries)
        {
            uint got = queue.CqEntries;
            queue.Dispose();
            throw new NotSupportedException($"The kernel gave a completion queue of {got} entries; {capacity} outstanding requests need more.");
        }
        _queue = queue!;
        _owned = settings.Owned;
        _deferSubmission = settings.Owned && settings.DeferSubmission;
        _registerOnFirstUse = settings.Owned && settings.RegisterOnFirstUse;
        _hasSyncCancel = support.HasSyncCancel && !settings.WithoutSyncCancel;
        _slots = new SlotTable(capacity);
        _claimed = new int[_queue.SqEntries];
        _route = new int[_queue.SqEntries];
        _freed = new int[capacity];
        _finishedWrites = new IoOperation[capacity];
        _harvestScratch = new IoOperation[Math.Max(capacity, (int)_queue.CqEntries)];
        if (_owned)
        {
            // Only this thread enters the ring: it may register the ring fd with itself, and other threads reach it
            // through an eventfd (remark 3), created here, on the owning thread.
            _queue.UseRegisteredRingFd();
            _eventFd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC);
            if (_eventFd < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                _queue.Dispose();
                throw new IOException($"eventfd failed: {Errors.Describe(error)}.", error);
            }
            _eventFdValue = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
            lock (_sqLock)
            {
                ArmDoorbellReadUnsynchronized(); // submitted by the first enter (owners always submit what is pending)
            }
        }
    }

    /// <summary>The setup flags the kernel accepted (SINGLE_ISSUER and DEFER_TASKRUN for an owned ring, where the
    /// kernel has them).</summary>
    public uint SetupFlags => _queue.SetupFlags;

    /// <summary>Whether the ring is entered through a registered ring fd (owned rings, Linux 5.18+).</summary>
    public bool UsesRegisteredRingFd => _queue.UsesRegisteredRingFd;

    /// <summary>Registers the file with the ring (a sparse registered-file table, Linux 5.19): its operations then
    /// skip the kernel's per-operation file lookup. Where the kernel refuses, the plain fd is used.</summary>
    public void AssociateWithFile(SafeFileHandle file)
    {
        lock (_sqLock)
        {
            _queue.Registered.AddFile(file, holdHandle: true);
        }
    }

    /// <summary>The ring's descriptor (tests read its /proc fdinfo).</summary>
    internal int RingFd => _queue.Fd;

    /// <summary>Clears the file's registration, if it has one (registered on first use, remark 7): the kernel then lets
    /// go of the file once its operations still in flight have completed.</summary>
    public void ForgetFile(SafeFileHandle file)
    {
        lock (_sqLock)
        {
            _queue.Registered.RemoveFile(file);
        }
    }

    /// <summary>Registers the buffer with the ring (fixed buffers): transfers inside it skip pinning its pages.</summary>
    public void AssociateWithBuffer(Memory<byte> buffer)
    {
        lock (_sqLock)
        {
            _queue.Registered.AddBuffer(buffer);
        }
    }

    // ============================================================================================================
    // Submission

    /// <summary>A vectored write is one WRITEV SQE.</summary>
    public bool GathersWrites => true;

    public int Start(ReadOnlySpan<IoOperation> operations, out int refusedErrno)
    {
        refusedErrno = 0;
        int accepted = 0;
        lock (_sqLock)
        {
            while (accepted < operations.Length)
            {
                if (_queue.SqSpace == 0 && _queue.Submit() <= 0 && _queue.SqSpace == 0)
                {
                    break; // an owner's deferred SQEs fill the SQ and the kernel takes none right now
                }
                int wanted = Math.Min(operations.Length - accepted, (int)_queue.SqSpace);
                int round = _slots.Claim(_claimed.AsSpan(0, wanted));
                if (round == 0)
                {
                    break; // every slot is in flight: the layer's capacity is the limit, so this is only a guard
                }
                int taken = StartRound(operations.Slice(accepted, round), out refusedErrno);
                accepted += taken;
                if (taken < round)
                {
                    if (IsTransientSubmitError(refusedErrno))
                    {
                        refusedErrno = 0; // not a refusal of that operation: the caller may reap and submit again
                    }
                    break;
                }
                refusedErrno = 0;
            }
        }
        return accepted;
    }

    /// <summary>Starts one round: the operations in the slots <c>_claimed[0..batch.Length)</c>, at most one SQ's
    /// worth. Returns how many were accepted, in order; the rest are undone.</summary>
    private int StartRound(ReadOnlySpan<IoOperation> batch, out int refusedErrno)
    {
        refusedErrno = 0;
        int round = batch.Length;
        EnterScopes(batch);
        uint pendingBefore = _queue.SqPending; // an owner's deferred SQEs; none in a shared ring (remark 2)
        int written = 0;
        for (int i = 0; i < round; i++)
        {
            IoOperation operation = batch[i];
            bool side = (operation.Traits & FileTraits.OnFuse) != 0;
            ulong userData = _slots.Bind(_claimed[i], operation, side);
            if (_route[i] == RouteHeld)
            {
                continue;
            }
            if (side)
            {
                _route[i] = RouteSide;
                continue;
            }
            _route[i] = written++;
            FillSqe(_queue.NextSqe(), operation, userData);
        }

        int consumed = written;
        if (!_deferSubmission && (written > 0 || pendingBefore > 0))
        {
            int result = _queue.Submit(); // the kernel consumes in order: what was pending first, then this round
            consumed = result < 0 ? 0 : Math.Max(0, result - (int)pendingBefore);
            if (result < 0)
            {
                refusedErrno = -result;
            }
            else if (consumed < written)
            {
                refusedErrno = Errno.EAGAIN; // the kernel had no room for the rest right now
            }
        }

        // Operations are accepted in order, up to the first whose SQE the kernel did not consume.
        int cut = round;
        for (int i = 0; i < round; i++)
        {
            if (_route[i] >= consumed)
            {
                cut = i;
                break;
            }
        }
        if (cut < round)
        {
            _queue.TakeBack((uint)(written - consumed));
            LeaveScopes(batch, cut);
            for (int i = cut; i < round; i++)
            {
                _slots.Release(_claimed[i]);
            }
        }
        for (int i = 0; i < cut; i++)
        {
            if (_route[i] == RouteSide)
            {
                SidePath.Enqueue(batch[i]);
            }
        }
        return cut;
    }

    /// <summary>Counts the round's writes in their scopes and asks the scopes about its flushes: <c>_route[i]</c>
    /// becomes RouteHeld for a flush that must wait, 0 for everything else.</summary>
    private void EnterScopes(ReadOnlySpan<IoOperation> batch) => FlushBarrier.Enter(_barrierLock, batch, _route, RouteHeld);

    /// <summary>Undoes <see cref="EnterScopes"/> for the operations from <paramref name="from"/> on (not accepted).</summary>
    private void LeaveScopes(ReadOnlySpan<IoOperation> batch, int from)
    {
        if (FlushBarrier.Leave(_barrierLock, batch, _route, from, RouteHeld))
        {
            StartReleasedFlushes(batch[from..]); // a flush held only by the writes taken back may go now
        }
    }

    /// <summary>Starts the flushes that the given writes, now finished, held back (after writes complete, or when
    /// writes are taken back). Holds <c>_sqLock</c>, then <c>_barrierLock</c> for each release.</summary>
    private void StartReleasedFlushes(ReadOnlySpan<IoOperation> finishedWrites)
    {
        lock (_sqLock)
        {
            bool wrote = false;
            foreach (IoOperation write in finishedWrites)
            {
                while (FlushBarrier.TryTakeReleased(_barrierLock, write, out IoOperation flush))
                {
                    if (_slots[SlotTable.IndexOf((ulong)flush.EngineSequence)].OnSidePath)
                    {
                        SidePath.Enqueue(flush);
                        continue;
                    }
                    if (_queue.SqSpace == 0)
                    {
                        SubmitOrFail();
                    }
                    FillSqe(_queue.NextSqe(), flush, (ulong)flush.EngineSequence);
                    wrote = true;
                }
            }
            if (wrote && !_deferSubmission)
            {
                SubmitOrFail();
            }
        }
    }

    /// <summary>Writes every field of one SQE (zeroed first, then set) for an operation bound to a slot.</summary>
    private void FillSqe(IoUringSqe* sqe, IoOperation operation, ulong userData)
    {
        int fd = operation.Fd;
        bool read = operation.Kind == OperationKind.Read;
        switch (operation.Kind)
        {
            case OperationKind.Read or OperationKind.Write when !operation.IsVectored:
                byte* buffer = operation.SegmentPointer(0);
                int length = operation.SegmentLength(0);
                int bufferIndex = _queue.Registered.BufferIndexOf(operation.Segment(0), buffer, length, _registerOnFirstUse);
                if (bufferIndex >= 0)
                {
                    SqePrep.TransferFixed(sqe, read, fd, operation.Offset, buffer, length, (ushort)bufferIndex, userData);
                }
                else
                {
                    SqePrep.Transfer(sqe, read, fd, operation.Offset, buffer, length, userData);
                }
                break;
            case OperationKind.Read or OperationKind.Write:
                // The iovec array belongs to the operation and lives until it completes: safe even when an owner
                // submits it later (remark 2).
                SqePrep.TransferVectored(sqe, read, fd, operation.Offset, operation.Iovecs, operation.SegmentCount, userData);
                break;
            case OperationKind.Flush:
                // A plain fsync: its scope held it until the writes before it completed (remark 4).
                SqePrep.Fsync(sqe, fd, operation.DataOnly, userData);
                break;
            default:
                throw new InvalidOperationException($"Unexpected operation {operation.Kind}.");
        }
        int fileIndex = _queue.Registered.FileIndexOf(operation.File!);
        if (fileIndex < 0 && _registerOnFirstUse && _queue.Registered.AddFile(operation.File!, holdHandle: false))
        {
            fileIndex = _queue.Registered.FileIndexOf(operation.File!); // the operation's pin keeps the handle open
        }
        if (fileIndex >= 0)
        {
            SqePrep.UseFixedFile(sqe, fileIndex);
        }
    }

    /// <summary>The side path for FUSE files (remark 5), created on first use.</summary>
    private PositionalWorkers SidePath
    {
        get
        {
            // The submitter, a canceller and the reaper may all ask first: exactly one pool is created and kept.
            if (Volatile.Read(ref _sidePath) is PositionalWorkers existing)
            {
                return existing;
            }
            var created = new PositionalWorkers("FileAio FUSE worker",
        PositionalWorkers.DefaultMaxWorkers, OnSidePathFinished);
            PositionalWorkers? raced = Interlocked.CompareExchange(ref _sidePath, created, null);
            if (raced is null)
            {
                return created;
            }
            created.Stop();
            return raced;
        }
    }

    /// <summary>A side-path operation finished (on its worker thread): hand it to the reaper like a CQE.</summary>
    private void OnSidePathFinished(IoOperation operation)
    {
        _sideDone.Enqueue(operation);
        RingDoorbell(); // a kick: the reaper looks at _sideDone on its next harvest
    }

    /// <summary>EAGAIN (no memory for requests right now) and EBUSY (completions must be reaped first): the caller
    /// sees fewer operations accepted and may reap and submit again.</summary>
    private static bool IsTransientSubmitError(int errno) => errno is Errno.EAGAIN or Errno.EBUSY or Errno.ENOMEM;

    /// <summary>Submits what is pending until the kernel has consumed it. Internal SQEs (the doorbell, a cancel, a
    /// released flush) must reach the kernel — a lost one would hang a waiter — so transient refusals are retried and
    /// anything else fails the process loudly. Caller holds <c>_sqLock</c>.</summary>
    private void SubmitOrFail()
    {
        while (_queue.SqPending > 0)
        {
            int result = _queue.Submit();
            if (result < 0 && !IsTransientSubmitError(-result))
            {
                Environment.FailFast($"FileAio: io_uring refused an internal submission (errno {-result}); waiters could hang.");
            }
            if (result <= 0)
            {
                Thread.Sleep(1);
            }
        }
    }
}
