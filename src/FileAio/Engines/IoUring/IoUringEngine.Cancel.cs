using FileAio.Engines.ThreadPool;
using FileAio.Interop;

namespace FileAio.Engines.IoUring;

/// <summary>
/// Cancel: the kernel is asked (IORING_REGISTER_SYNC_CANCEL on Linux 6.0+, else an IORING_OP_ASYNC_CANCEL SQE whose
/// answer the canceller waits for), and when it says it cancelled the operation — or that it finished meanwhile —
/// the canceller waits for the operation's own completion: -ECANCELED means it never ran (Canceled, never reaped);
/// anything else is handed to Reap. So "Canceled" comes with the kernel's proof that it is done with the buffer, and
/// the completion never reaches a reused slot.
/// </summary>
/// <remarks>
/// The kernel's answers, mapped once (SPEC §3): 0, cancelled or finished meanwhile (the completion decides);
/// -ENOENT, not found: finished with its CQE posted (AlreadyCompleted, once a harvest has parked it for the canceller)
/// or running where cancel cannot reach (direct I/O at the device: InProgress); -EALREADY, or -ETIME
/// from a sync cancel with a zero timeout, running where the kernel can only try to stop it (InProgress). What the
/// kernel can cancel: operations not yet started and waits on pollable files (a FIFO). Disk I/O under way finishes.
/// </remarks>
internal sealed unsafe partial class IoUringEngine
{
    // ---- Fallback cancel (kernels without IORING_REGISTER_SYNC_CANCEL): one at a time, the answer in a mailbox.
    private readonly Lock _asyncCancelLock = new();
    private int _asyncCancelAnswer;
    private int _asyncCancelAnswered;

    public EngineCancelResult Cancel(IoOperation operation)
    {
        ulong userData = (ulong)operation.EngineSequence;
        int index = SlotTable.IndexOf(userData);
        if ((uint)index >= (uint)_slots.Capacity)
        {
            return EngineCancelResult.NotHeld;
        }
        if (operation.Kind == OperationKind.Flush && TryCancelHeldFlush(index, SlotTable.Make(SlotTable.GenerationOf(userData), SlotTable.InFlight), operation))
        {
            return EngineCancelResult.Canceled; // its scope still held it: it never reached the kernel
        }
        switch (_slots.TryBeginCancel(userData))
        {
            case SlotTable.CancelStart.Busy:
                return EngineCancelResult.InProgress;       // another caller is cancelling it right now: not free yet
            case SlotTable.CancelStart.Gone:
                return EngineCancelResult.AlreadyCompleted; // reaped: Reap reports it (or has)
        }

        bool settled = false;
        EngineCancelResult answer = _slots[index].OnSidePath ? CancelOnSidePath(index, operation) : CancelInKernel(userData, operation, out settled);
        if (answer == EngineCancelResult.Canceled || settled)
        {
            return answer; // decided, and the slot released, by the call above: touching it again would free it twice
        }
        // Not cancelled: back to InFlight, unless its completion arrived (and was parked) while we asked.
        return _slots.EndCancel(userData, out long parked) ? SettleParked(operation, parked) : answer;
    }

    /// <summary>Asks the kernel; on "cancelled or finished", waits for the operation's CQE and lets it decide.</summary>
    private EngineCancelResult CancelInKernel(ulong userData, IoOperation operation, out bool settled)
    {
        settled = false;
        // An SQE written but not yet consumed cannot be found by the kernel: get it in first. In a shared ring that
        // means letting a Start (or a released flush) that is writing SQEs right now finish; an owner submits what it
        // deferred.
        lock (_sqLock)
        {
            if (_owned && _queue.SqPending > 0)
            {
                SubmitOrFail();
            }
        }
        int answer = _hasSyncCancel ? _queue.SyncCancel(userData, 0) : AsyncCancel(userData);
        if (answer == 0)
        {
            while (!_slots.IsParked(userData))
            {
                HarvestForCanceller();
                if (_slots.IsParked(userData))
                {
                    break;
                }
                WaitSliceForCanceller();
            }
            settled = true; // the parked completion is settled here, Canceled or handed to Reap
            return SettleParked(operation, _slots.TakeParked(userData));
        }
        if (answer == -Errno.ENOENT)
        {
            // Not found: finished with its CQE posted — or running where the kernel cannot look (direct I/O at the
            // device). Harvest once: a finished one is then parked for us and answered AlreadyCompleted; one still
            // running stays InProgress.
            HarvestForCanceller();
        }
        return EngineCancelResult.InProgress;
    }

    /// <summary>A FUSE file's operation: the side path's workers decide (a positional call cannot be stopped once
    /// it runs; one still queued is taken out).</summary>
    private EngineCancelResult CancelOnSidePath(int index, IoOperation operation)
    {
        switch (SidePath.TryCancel(operation))
        {
            case PositionalWorkers.CancelAnswer.Canceled:
                // It will never run and never come back: the slot is ours to free.
                _slots.Release(index);
                if (operation.Kind == OperationKind.Write && operation.Scope is not null)
                {
                    FinishWrites(new ReadOnlySpan<IoOperation>(in operation));
                }
                return EngineCancelResult.Canceled;
            case PositionalWorkers.CancelAnswer.Running:
                return EngineCancelResult.InProgress;
            default:
                return EngineCancelResult.AlreadyCompleted; // finished: its completion is on the way to the reaper
        }
    }

    private bool TryCancelHeldFlush(int index, long inFlight, IoOperation operation)
    {
        if (operation.Scope is not FlushScope scope)
        {
            return false;
        }
        lock (_barrierLock)
        {
            if (!scope.TryRemove(operation))
            {
                return false;
            }
            // A held flush is in no one else's hands (no CQE can come for it); freeing its slot under the barrier
            // lock means a second canceller, which finds it gone from the scope, finds the slot free too.
            bool freed = Interlocked.CompareExchange(ref _slots[index].Word,
                SlotTable.Make(SlotTable.GenerationOf(inFlight), SlotTable.Free), inFlight) == inFlight;
            System.Diagnostics.Debug.Assert(freed, "A held flush's slot is in flight.");
            _slots[index].Operation = null;
            _slots.Return(index);
        }
        return true;
    }

    /// <summary>Settles a completion parked for this canceller (its slot already released): -ECANCELED means the
    /// operation never ran (Canceled, never reaped); anything else is a real result that Reap must report.</summary>
    private EngineCancelResult SettleParked(IoOperation operation, long result)
    {
        if (operation.Kind == OperationKind.Write && operation.Scope is not null)
        {
            FinishWrites(new ReadOnlySpan<IoOperation>(in operation));
        }
        if (result == -Errno.ECANCELED)
        {
            return EngineCancelResult.Canceled;
        }
        operation.Result = result;
        _ready.Enqueue(operation);
        RingDoorbell(); // a kick: a Reap asleep in the kernel must look at _ready
        return EngineCancelResult.AlreadyCompleted;
    }

    /// <summary>Cancel through an IORING_OP_ASYNC_CANCEL SQE (kernels before 6.0) and wait for its answer: 0 found
    /// and cancelled, -ENOENT not found, -EALREADY running.</summary>
    private int AsyncCancel(ulong userData)
    {
        lock (_asyncCancelLock)
        {
            Volatile.Write(ref _asyncCancelAnswered, 0);
            PostAsyncCancel(userData, 0);
            while (Volatile.Read(ref _asyncCancelAnswered) == 0)
            {
                HarvestForCanceller();
                if (Volatile.Read(ref _asyncCancelAnswered) != 0)
                {
                    break;
                }
                WaitSliceForCanceller();
            }
            return Volatile.Read(ref _asyncCancelAnswer);
        }
    }

    /// <summary>Posts an IORING_OP_ASYNC_CANCEL of <paramref name="target"/> (or, with <paramref name="flags"/> ANY
    /// | ALL, of everything); its answer arrives as a CQE with <see cref="CancelUserData"/>.</summary>
    private void PostAsyncCancel(ulong target, uint flags)
    {
        lock (_sqLock)
        {
            if (_queue.SqSpace == 0)
            {
                SubmitOrFail();
            }
            SqePrep.Cancel(_queue.NextSqe(), target, flags, CancelUserData);
            SubmitOrFail();
        }
    }

    private void OnAsyncCancelAnswer(int result)
    {
        Volatile.Write(ref _asyncCancelAnswer, result);
        Volatile.Write(ref _asyncCancelAnswered, 1); // after the answer: a canceller that sees 1 reads the answer
    }

    /// <summary>
    /// Reaps once on behalf of a canceller that waits for a CQE, when no Reap is harvesting right now: the
    /// completions it finds go to <c>_ready</c>, and a kick makes a sleeping Reap look at them. It never takes a
    /// wakeup: a doorbell CQE it consumes is rung again.
    /// </summary>
    private void HarvestForCanceller()
    {
        if (!_cqLock.TryEnter())
        {
            Thread.SpinWait(20); // the reaper is harvesting right now; what we wait for may be in its hands
            return;
        }
        int handedOver;
        bool rang;
        try
        {
            handedOver = HarvestUnsynchronized(_harvestScratch, out rang);
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
        if (rang || handedOver > 0 || !_ready.IsEmpty)
        {
            // A doorbell we consumed rings again, for a Reap about to sleep (a wakeup's flag stays set: only a Reap
            // takes it); and a kick for what we handed over, and for what another canceller left in _ready (its kick
            // may be the doorbell CQE this harvest just consumed).
            RingDoorbell();
        }
    }

    /// <summary>Sleeps until a CQE may have come, in slices of 1 ms: a CQE consumed by the other reaper between our
    /// look and our sleep would not end the sleep. An owner submits what is pending and runs its completion work.</summary>
    private void WaitSliceForCanceller()
    {
        Deadline slice = Deadline.After(TimeSpan.FromMilliseconds(1));
        if (_owned)
        {
            _queue.SubmitAndWait(1, slice);
        }
        else
        {
            _queue.Wait(1, slice);
        }
    }
}
