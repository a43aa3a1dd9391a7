using System.Collections.Concurrent;
using FileAio.Engines.ThreadPool;
using FileAio.Interop;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;
using static FileAio.Interop.LinuxAioConstants;

namespace FileAio.Engines.LinuxAio;

/// <summary>
/// The Linux native AIO engine: the policy over one <see cref="LinuxAioQueue"/> — which operation becomes which iocb,
/// what an io_event means, flushes held behind writes, cancellation, wakeups and teardown. One driver for both layers:
/// a context's callers and an engine thread's loop call it the same way (nothing here is bound to a thread). This file
/// has construction and submission; Reap and Cancel (with teardown) have files of their own.
/// </summary>
/// <remarks>
/// <para>1. Only O_DIRECT transfers are asynchronous in Linux AIO: on a buffered file <c>io_submit</c> does the whole
/// transfer before it returns. The engine still keeps the contract there (the submitter just waits); under Auto
/// (<see cref="EngineSettings.BufferedOnSidePath"/>) buffered files go to the side path instead.</para>
/// <para>2. The side path: files Linux AIO must not be given run as positional system calls on worker threads
/// (<see cref="PositionalWorkers"/>), with a slot like any other, and complete through the same harvest as io_events.
/// Those are files that can block for ever (a FIFO, a socket: <c>io_submit</c> would block in the read),
/// files on FUSE (the rule every kernel engine follows here, <see cref="FuseFiles"/>), and buffered files under
/// Auto.</para>
/// <para>3. Who touches what. Submitters (one Start at a time, and <c>_submitLock</c>, which a released flush takes
/// too) fill iocbs and call <c>io_submit</c>. The reaper (one thread in Reap, under <c>_reapLock</c>) collects
/// io_events. Slots (<see cref="SlotTable"/>) move by compare-and-swap, so a canceller and the reaper agree on who
/// finishes an operation. Lock order: <c>_reapLock</c>, <c>_submitLock</c>, <c>_barrierLock</c>.</para>
/// <para>4. Flushes are IOCB_CMD_FSYNC / FDSYNC (Linux 4.18+), held in their <see cref="FlushScope"/> until the
/// scope's earlier writes have completed.</para>
/// <para>5. One call to sleep in: a blocking <c>io_getevents</c>, ended by a completion or by the doorbell (an eventfd
/// watched by a poll request of the queue's own, <see cref="LinuxAioQueue"/>), which a wakeup or a kick rings.
/// <c>_wakeupPending</c>, read directly after every harvest, is what says a wakeup is pending; the doorbell only
/// ends a sleep, so one Wakeup is reported once.</para>
/// </remarks>
internal sealed unsafe partial class LinuxAioEngine : IAioEngine
{
    /// <summary>Most requests one context holds: a 16th of the kernel's default <c>fs.aio-max-nr</c>, which every
    /// process on the machine shares, so that an "unlimited" context does not leave the others none.</summary>
    public const int MaxOutstanding = 4096;

    /// <summary>Routes of a round's operations besides a submit-list position (≥ 0).</summary>
    private const int RouteHeld = -1;
    private const int RouteSide = -2;

    private readonly LinuxAioQueue _queue;
    private readonly SlotTable _slots;
    private readonly bool _bufferedOnSidePath;

    // ---- Submission, guarded by _submitLock.
    private readonly Lock _submitLock = new();
    private readonly int[] _claimed;            // slot indices of the round being started
    private readonly int[] _route;              // per operation of the round: its list position, RouteHeld or RouteSide
    private PositionalWorkers? _sidePath;       // created on first use

    // ---- Flush scopes of this engine's operations, guarded by _barrierLock.
    private readonly Lock _barrierLock = new();

    // ---- Reaping, guarded by _reapLock.
    private readonly Lock _reapLock = new();
    private readonly int[] _freed;
    private readonly IoOperation[] _finishedWrites;
    private int _finishedWriteCount;
    private readonly IoOperation[] _harvestScratch;     // a canceller's or teardown's harvest

    /// <summary>Operations settled outside a harvest (a cancel's parked completion, a released flush the kernel
    /// refused), for the next Reap.</summary>
    private readonly ConcurrentQueue<IoOperation> _ready = new();

    /// <summary>Operations the side path finished, for the next harvest.</summary>
    private readonly ConcurrentQueue<IoOperation> _sideDone = new();

    private int _wakeupPending;                 // 1 from Wakeup until a Reap reports it (remark 5)

    public LinuxAioEngine(int capacity, EngineSettings settings)
    {
        int errno = LinuxAioQueue.TryCreate(capacity, out LinuxAioQueue? queue, out string? failedStep);
        if (errno != 0)
        {
            throw new NotSupportedException(LinuxAioProbe.DescribeSetupError(errno, capacity, failedStep));
        }
        _queue = queue!;
        _bufferedOnSidePath = settings.BufferedOnSidePath;
        _slots = new SlotTable(capacity);
        _claimed = new int[capacity];
        _route = new int[capacity];
        _freed = new int[capacity];
        _finishedWrites = new IoOperation[capacity];
        _harvestScratch = new IoOperation[capacity];
    }

    /// <summary>Positional requests take any handle: nothing to register.</summary>
    public void AssociateWithFile(SafeFileHandle file)
    {
    }

    /// <summary>Requests take any memory: nothing to register.</summary>
    public void AssociateWithBuffer(Memory<byte> buffer)
    {
    }

    /// <summary>Nothing is registered: nothing to forget.</summary>
    public void ForgetFile(SafeFileHandle file)
    {
    }

    // ============================================================================================================
    // Submission

    /// <summary>A vectored write is one IOCB_CMD_PWRITEV.</summary>
    public bool GathersWrites => true;

    public int Start(ReadOnlySpan<IoOperation> operations, out int refusedErrno)
    {
        refusedErrno = 0;
        lock (_submitLock)
        {
            int round = _slots.Claim(_claimed.AsSpan(0, Math.Min(operations.Length, _claimed.Length)));
            if (round == 0)
            {
                return 0; // every slot is in flight: the layer's capacity is the limit, so this is only a guard
            }
            int taken = StartRound(operations[..round], out refusedErrno);
            if (taken < round && IsTransientSubmitError(refusedErrno))
            {
                refusedErrno = 0; // not a refusal of that operation: the caller may reap and submit again
            }
            return taken;
        }
    }

    /// <summary>Starts the operations in the slots <c>_claimed[0..batch.Length)</c>. Returns how many were accepted,
    /// in order; the rest are undone. Caller holds <c>_submitLock</c>.</summary>
    private int StartRound(ReadOnlySpan<IoOperation> batch, out int refusedErrno)
    {
        refusedErrno = 0;
        int round = batch.Length;
        EnterScopes(batch);
        int listed = 0;
        for (int i = 0; i < round; i++)
        {
            IoOperation operation = batch[i];
            bool side = GoesToSidePath(operation);
            ulong tag = _slots.Bind(_claimed[i], operation, side);
            if (_route[i] == RouteHeld)
            {
                continue;
            }
            if (side)
            {
                _route[i] = RouteSide;
                continue;
            }
            FillIocb(_queue.IocbOf(_claimed[i]), operation, tag);
            _queue.List(listed, _claimed[i]);
            _route[i] = listed++;
        }

        // io_submit takes a prefix of the list and reports only the first refusal: submit again from the first iocb
        // it did not take, to learn that one's error.
        int submitted = 0;
        while (submitted < listed)
        {
            int result = _queue.Submit(submitted, listed - submitted);
            if (result > 0)
            {
                submitted += result;
                continue;
            }
            refusedErrno = result < 0 ? -result : Errno.EAGAIN;
            break;
        }

        // Operations are accepted in order, up to the first iocb the kernel did not take.
        int cut = round;
        for (int i = 0; i < round; i++)
        {
            if (_route[i] >= submitted)
            {
                cut = i;
                break;
            }
        }
        if (cut < round)
        {
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

    /// <summary>Remark 2: what Linux AIO is not given.</summary>
    private bool GoesToSidePath(IoOperation operation)
    {
        FileTraits traits = operation.Traits;
        return (traits & (FileTraits.Pollable | FileTraits.OnFuse)) != 0
            || (_bufferedOnSidePath && (traits & FileTraits.Direct) == 0);
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

    /// <summary>Starts the flushes that the given writes, now finished (or taken back), held back.</summary>
    private void StartReleasedFlushes(ReadOnlySpan<IoOperation> finishedWrites)
    {
        lock (_submitLock)
        {
            foreach (IoOperation write in finishedWrites)
            {
                while (FlushBarrier.TryTakeReleased(_barrierLock, write, out IoOperation flush))
                {
                    int slot = SlotTable.IndexOf((ulong)flush.EngineSequence);
                    if (_slots[slot].OnSidePath)
                    {
                        SidePath.Enqueue(flush);
                    }
                    else
                    {
                        SubmitReleasedFlush(flush, slot);
                    }
                }
            }
        }
    }

    /// <summary>Submits one released flush. It was accepted long ago, so it must not be lost: a transient refusal is
    /// retried (for a second at most), and a real one, or one that lasts, completes it with that error. Caller holds
    /// <c>_submitLock</c>.</summary>
    private void SubmitReleasedFlush(IoOperation flush, int slot)
    {
        ulong tag = (ulong)flush.EngineSequence;
        FillIocb(_queue.IocbOf(slot), flush, tag);
        _queue.List(0, slot);
        for (int attempt = 1; ; attempt++)
        {
            int result = _queue.Submit(0, 1);
            if (result == 1)
            {
                return;
            }
            int errno = result < 0 ? -result : Errno.EAGAIN;
            // A transient refusal is retried for a second at most: the locks held here stop every submit and reap.
            if (!IsTransientSubmitError(errno) || attempt == 1000)
            {
                // As if the kernel had answered with the error: through the slot, so a canceller is not bypassed.
                if (_slots.TakeCompletion(tag, -errno, out IoOperation? failed, out int index) == SlotTable.CompletionOutcome.HandedOut)
                {
                    _slots.Return(index);
                    _ready.Enqueue(failed!);
                    _queue.RingDoorbell();
                }
                return;
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>Writes every field of one iocb (zeroed first) for an operation bound to a slot.</summary>
    private void FillIocb(Iocb* iocb, IoOperation operation, ulong tag)
    {
        *iocb = default;
        iocb->Data = tag;
        iocb->Fd = (uint)operation.Fd;
        bool read = operation.Kind == OperationKind.Read;
        switch (operation.Kind)
        {
            case OperationKind.Read or OperationKind.Write when !operation.IsVectored:
                iocb->Opcode = read ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
                iocb->Buffer = (ulong)operation.SegmentPointer(0);
                iocb->Bytes = (ulong)operation.SegmentLength(0);
                iocb->Offset = operation.Offset;
                break;
            case OperationKind.Read or OperationKind.Write:
                // The iovec array belongs to the operation and stays pinned until it completes.
                iocb->Opcode = read ? IOCB_CMD_PREADV : IOCB_CMD_PWRITEV;
                iocb->Buffer = (ulong)operation.Iovecs;
                iocb->Bytes = (ulong)operation.SegmentCount;
                iocb->Offset = operation.Offset;
                break;
            case OperationKind.Flush:
                iocb->Opcode = operation.DataOnly ? IOCB_CMD_FDSYNC : IOCB_CMD_FSYNC;
                break;
            default:
                throw new InvalidOperationException($"Unexpected operation {operation.Kind}.");
        }
    }

    /// <summary>The side path (remark 2), created on first use.</summary>
    private PositionalWorkers SidePath
    {
        get
        {
            // The submitter, a canceller and the reaper may all ask first: exactly one pool is created and kept.
            if (Volatile.Read(ref _sidePath) is PositionalWorkers existing)
            {
                return existing;
            }
            var created = new PositionalWorkers("FileAio AIO side worker",
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

    /// <summary>A side-path operation finished (on its worker thread): hand it to the reaper like an io_event.</summary>
    private void OnSidePathFinished(IoOperation operation)
    {
        _sideDone.Enqueue(operation);
        _queue.RingDoorbell(); // a kick: the reaper looks at _sideDone on its next harvest
    }

    /// <summary>EAGAIN (no free request or memory right now): the caller sees fewer operations accepted and may reap
    /// and submit again.</summary>
    private static bool IsTransientSubmitError(int errno) => errno is Errno.EAGAIN or Errno.ENOMEM;
}
