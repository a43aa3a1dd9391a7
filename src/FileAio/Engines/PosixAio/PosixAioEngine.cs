using System.Collections.Concurrent;
using FileAio.Engines.ThreadPool;
using FileAio.Interop;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines.PosixAio;

/// <summary>
/// The POSIX AIO engine: the policy over one <see cref="IPosixAioPlatform"/> — which operation becomes which
/// <c>aiocb</c>, batches through <c>lio_listio(LIO_NOWAIT)</c>, flushes through <c>aio_fsync</c> held behind their
/// scope's writes, cancellation, wakeups and teardown — written once for glibc, FreeBSD and macOS. One driver for both
/// layers: a context's callers and an engine thread's loop call it the same way. This file has construction and
/// submission; Reap and Cancel (with teardown) have files of their own.
/// </summary>
/// <remarks>
/// <para>1. The side path: vectored transfers (glibc and macOS have no <c>aio_readv</c>; FreeBSD's is unverified) and
/// files that can block for ever (a FIFO, a socket: a library helper would block in the read where no cancel reaches
/// it, and macOS and FreeBSD refuse them) run as positional system calls on worker threads
/// (<see cref="PositionalWorkers"/>), with a slot like any other, and complete through the same harvest.</para>
/// <para>2. Who touches what. Submitters (one Start at a time, and <c>_submitLock</c>, which a released flush takes
/// too) fill blocks and queue them. The reaper (one thread in Reap; the harvest under <c>_reapLock</c>, which a
/// canceller may take too) collects. Slots (<see cref="SlotTable"/>) move by compare-and-swap, so a canceller and the
/// reaper agree on who finishes an operation. Lock order: <c>_reapLock</c>, <c>_submitLock</c>, <c>_barrierLock</c>.</para>
/// <para>3. Sleeping. The reaper announces its sleep (<c>_asleep</c>, full fence) before it checks its flags and
/// before the platform lists what it sleeps on; everyone who gives it something to see (an armed block, a ready
/// operation, a wakeup) publishes it first and kicks only if the reaper announced a sleep. So either the reaper sees
/// it, or the kick ends its sleep — and a sleepless engine never pays for a kick.</para>
/// <para>4. A batch <c>lio_listio</c> only partly queued is cut where the first entry was refused: later entries it
/// did queue are taken back with <c>aio_cancel</c>; one that cannot be taken back is kept, and then every entry up to
/// it is accepted — a refused one among them is queued again alone, or completes with its error through Reap.</para>
/// </remarks>
internal sealed unsafe partial class PosixAioEngine : IAioEngine
{
    private const int RouteLibrary = 0;
    private const int RouteHeld = -1;
    private const int RouteSide = -2;

    private readonly IPosixAioPlatform _platform;
    private readonly SlotTable _slots;

    // ---- Submission, guarded by _submitLock.
    private readonly Lock _submitLock = new();
    private readonly int[] _claimed;
    private readonly int[] _route;
    private readonly int[] _runSlots;
    private readonly int[] _runErrors;
    private PositionalWorkers? _sidePath;

    private readonly Lock _barrierLock = new();

    // ---- Reaping, guarded by _reapLock.
    private readonly Lock _reapLock = new();
    private readonly int[] _freed;
    private readonly PosixAioFinished[] _finished;
    private readonly IoOperation[] _finishedWrites;
    private int _finishedWriteCount;
    private readonly IoOperation[] _harvestScratch;

    private readonly ConcurrentQueue<IoOperation> _ready = new();
    private readonly ConcurrentQueue<IoOperation> _sideDone = new();

    private int _wakeupPending;   // 1 from Wakeup until a Reap reports it
    private int _asleep;          // 1 while the reaper is between announcing a sleep and waking (remark 3)

    public PosixAioEngine(int capacity)
        : this(CreatePlatform(capacity), capacity)
    {
    }

    private static IPosixAioPlatform CreatePlatform(int capacity)
    {
        int errno = PosixAioProbe.TryCreatePlatform(capacity, out IPosixAioPlatform? platform);
        return errno == 0 ? platform! : throw new NotSupportedException($"POSIX AIO could not be set up (errno {errno}).");
    }

    /// <summary>Over a given platform: the shipped one, or (tests) a wrapper over it that refuses chosen entries of a
    /// batch, which no C library here can be made to do on demand.</summary>
    internal PosixAioEngine(IPosixAioPlatform platform, int capacity)
    {
        _platform = platform;
        _slots = new SlotTable(capacity);
        _claimed = new int[capacity];
        _route = new int[capacity];
        _runSlots = new int[Math.Min(capacity, _platform.MaxBatch)];
        _runErrors = new int[_runSlots.Length];
        _freed = new int[capacity];
        _finished = new PosixAioFinished[capacity];
        _finishedWrites = new IoOperation[capacity];
        _harvestScratch = new IoOperation[capacity];
    }

    /// <summary>Requests take any descriptor: nothing to register.</summary>
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

    /// <summary>No: POSIX AIO has no vectored request, and this engine sends vectored transfers to its side path
    /// (remark 1), one worker hand-off instead of one lio_listio entry each.</summary>
    public bool GathersWrites => false;

    public int Start(ReadOnlySpan<IoOperation> operations, out int refusedErrno)
    {
        refusedErrno = 0;
        lock (_submitLock)
        {
            int round = _slots.Claim(_claimed.AsSpan(0, Math.Min(operations.Length, _claimed.Length)));
            if (round == 0)
            {
                return 0; // the layer's capacity is the limit: only a guard
            }
            int taken = StartRound(operations[..round], out refusedErrno);
            if (taken < round && _platform.IsTransient(refusedErrno))
            {
                refusedErrno = 0; // "not now": the rest stay Prepared, the caller may reap and submit again
            }
            KickIfAsleep(); // blocks armed while the reaper sleeps are not in its list (remark 3)
            return taken;
        }
    }

    /// <summary>Starts the operations in the slots <c>_claimed[0..batch.Length)</c>; returns how many were accepted, in
    /// order, and undoes the rest. Caller holds <c>_submitLock</c>.</summary>
    private int StartRound(ReadOnlySpan<IoOperation> batch, out int refusedErrno)
    {
        refusedErrno = 0;
        int round = batch.Length;
        EnterScopes(batch);
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
            _platform.Prepare(_claimed[i], operation, tag);
        }

        int cut = round;
        for (int i = 0; i < round && cut == round;)
        {
            if (_route[i] != RouteLibrary)
            {
                i++;
            }
            else if (batch[i].Kind == OperationKind.Flush)
            {
                if (!StartFlush(batch[i], _claimed[i], ref _route[i], out int errno))
                {
                    cut = i;
                    refusedErrno = errno;
                }
                i++;
            }
            else
            {
                i = StartRun(batch, i, ref cut, ref refusedErrno);
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

    /// <summary>Queues the run of transfers that starts at <paramref name="from"/> with one <c>lio_listio</c>; returns
    /// where the next run starts. On a refusal sets <paramref name="cut"/> (remark 4).</summary>
    private int StartRun(ReadOnlySpan<IoOperation> batch, int from, ref int cut, ref int refusedErrno)
    {
        int n = 0, end = from;
        while (end < batch.Length && n < _runSlots.Length && _route[end] == RouteLibrary && batch[end].Kind != OperationKind.Flush)
        {
            _runSlots[n++] = _claimed[end++];
        }
        Span<int> errors = _runErrors.AsSpan(0, n);
        _platform.SubmitList(_runSlots.AsSpan(0, n), errors);
        int first = errors.IndexOfAnyExcept(0);
        if (first < 0)
        {
            for (int k = 0; k < n; k++)
            {
                _platform.Arm(_runSlots[k]);
            }
            return end;
        }

        // Queued entries after the refused one: take them back, or keep them (and everything before them).
        int last = first - 1;
        for (int k = first + 1; k < n; k++)
        {
            if (errors[k] == 0 && !_platform.TakeBack(_runSlots[k], batch[from + k].Fd))
            {
                last = k;
            }
        }
        // Armed in the order the library queued them — the list's entries, then the refused ones queued again alone —
        // which is the order glibc runs a descriptor's requests in (its reaper relies on it: GlibcSuspendChoice).
        for (int k = 0; k <= last; k++)
        {
            if (errors[k] == 0)
            {
                _platform.Arm(_runSlots[k]);
            }
        }
        for (int k = first; k <= last; k++)
        {
            if (errors[k] == 0)
            {
                continue;
            }
            // Refused, but a later entry runs: this one must be accepted too. Alone, or as a completed failure.
            int errno = _platform.SubmitOne(_runSlots[k], batch[from + k].Kind, dataOnly: false);
            if (errno == 0)
            {
                _platform.Arm(_runSlots[k]);
            }
            else
            {
                CompleteOutsideLibrary((ulong)batch[from + k].EngineSequence, -(long)errno);
            }
        }
        if (last >= first)
        {
            cut = from + last + 1;   // the rest were taken back or never queued: they stay Prepared
        }
        else
        {
            cut = from + first;
            refusedErrno = errors[first];
        }
        return end;
    }

    /// <summary>Queues one flush (not held) with <c>aio_fsync</c>. glibc refuses a descriptor open read-only with
    /// EBADF, where <c>fsync</c> itself works: such a flush goes to the side path. False for a refusal.</summary>
    private bool StartFlush(IoOperation flush, int slot, ref int route, out int errno)
    {
        errno = _platform.SubmitOne(slot, OperationKind.Flush, flush.DataOnly);
        if (errno == 0)
        {
            _platform.Arm(slot);
            return true;
        }
        if (errno == Errno.EBADF && OperatingSystem.IsLinux())
        {
            _slots[slot].OnSidePath = true; // not yet accepted: no canceller can be looking at the slot
            route = RouteSide;
            errno = 0;
            return true;
        }
        return false;
    }

    /// <summary>Remark 1: what the library is not given.</summary>
    private static bool GoesToSidePath(IoOperation operation) =>
        operation.IsVectored || (operation.Traits & FileTraits.Pollable) != 0;

    /// <summary>Finishes an accepted operation with <paramref name="result"/> without the library (a refusal that
    /// cannot be undone any more): through the slot, so a canceller is not bypassed, and on to the next Reap.</summary>
    private void CompleteOutsideLibrary(ulong tag, long result)
    {
        if (_slots.TakeCompletion(tag, result, out IoOperation? failed, out int index) == SlotTable.CompletionOutcome.HandedOut)
        {
            _slots.Return(index);
            HandOver(failed!);
        }
    }

    /// <summary>Gives the next Reap an operation settled outside a harvest.</summary>
    private void HandOver(IoOperation operation)
    {
        _ready.Enqueue(operation);
        KickIfAsleep();
    }

    /// <summary>Remark 3, the giver's half: what it published is visible before <c>_asleep</c> is read.</summary>
    private void KickIfAsleep()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _asleep) == 1)
        {
            _platform.Kick();
        }
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
            KickIfAsleep();
        }
    }

    /// <summary>Queues one released flush. It was accepted long ago, so it must not be lost: a transient refusal is
    /// retried, EBADF (glibc, a read-only descriptor) goes to the side path, and another refusal completes it with
    /// that error. Caller holds <c>_submitLock</c>.</summary>
    private void SubmitReleasedFlush(IoOperation flush, int slot)
    {
        _platform.Prepare(slot, flush, (ulong)flush.EngineSequence);
        while (true)
        {
            int errno = _platform.SubmitOne(slot, OperationKind.Flush, flush.DataOnly);
            if (errno == 0)
            {
                _platform.Arm(slot);
                return;
            }
            if (errno == Errno.EBADF && OperatingSystem.IsLinux())
            {
                _slots[slot].OnSidePath = true; // a canceller reads it only after taking the slot, which stays InFlight
                SidePath.Enqueue(flush);
                return;
            }
            if (!_platform.IsTransient(errno))
            {
                CompleteOutsideLibrary((ulong)flush.EngineSequence, -(long)errno);
                return;
            }
            Thread.Sleep(1);
        }
    }

    private PositionalWorkers SidePath => _sidePath ??= new PositionalWorkers("FileAio POSIX AIO side worker",
        PositionalWorkers.DefaultMaxWorkers, OnSidePathFinished);

    /// <summary>A side-path operation finished (on its worker thread): hand it to the reaper's harvest.</summary>
    private void OnSidePathFinished(IoOperation operation)
    {
        _sideDone.Enqueue(operation);
        KickIfAsleep();
    }
}
