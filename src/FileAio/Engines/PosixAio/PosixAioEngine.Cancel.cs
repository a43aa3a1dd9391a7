using FileAio.Engines.ThreadPool;

namespace FileAio.Engines.PosixAio;

/// <summary>
/// Cancel and teardown. <c>aio_cancel</c>'s answers, mapped once (SPEC §3): AIO_CANCELED — taken off the queue before
/// it ran, its buffer never touched; it still finishes (ECANCELED) and is collected once, by a harvest that parks it for
/// this canceller, which swallows it: Canceled, never reported. AIO_NOTCANCELED — running (InProgress); AIO_ALLDONE —
/// finished, its completion on the way (AlreadyCompleted). glibc and FreeBSD cancel only requests still queued: a read
/// a helper thread or an AIO daemon has started finishes. What the engine holds itself (a held flush, side-path work)
/// is cancelled for real.
/// </summary>
internal sealed partial class PosixAioEngine
{
    public EngineCancelResult Cancel(IoOperation operation)
    {
        ulong tag = (ulong)operation.EngineSequence;
        int index = SlotTable.IndexOf(tag);
        if ((uint)index >= (uint)_slots.Capacity)
        {
            return EngineCancelResult.NotHeld;
        }
        if (operation.Kind == OperationKind.Flush && TryCancelHeldFlush(tag, operation))
        {
            return EngineCancelResult.Canceled;
        }
        switch (_slots.TryBeginCancel(tag))
        {
            case SlotTable.CancelStart.Busy:
                return EngineCancelResult.InProgress;
            case SlotTable.CancelStart.Gone:
                return EngineCancelResult.AlreadyCompleted;
        }
        if (_slots[index].OnSidePath)
        {
            EngineCancelResult side = CancelOnSidePath(tag, operation, out bool settled);
            if (settled)
            {
                return side;
            }
            return _slots.EndCancel(tag, out long parkedSide) ? Settle(operation, parkedSide) : side;
        }

        // The slot is held (CancelRequested): its block cannot be reused while we name it.
        switch (_platform.Cancel(index, operation.Fd))
        {
            case PosixAioCancelAnswer.Canceled:
                return Settle(operation, WaitUntilParked(tag));
            case PosixAioCancelAnswer.AllDone:
                HarvestForCanceller(); // so that its completion is parked for us now, if no Reap has taken it yet
                return _slots.EndCancel(tag, out long parkedDone) ? Settle(operation, parkedDone) : EngineCancelResult.AlreadyCompleted;
            default:
                return _slots.EndCancel(tag, out long parkedRunning) ? Settle(operation, parkedRunning) : EngineCancelResult.InProgress;
        }
    }

    /// <summary>After AIO_CANCELED the request is finished in the library (glibc marks it in <c>aio_cancel</c>; the BSDs
    /// post its event): collect until a harvest — ours, or a Reap's — has parked it for us, and take it.</summary>
    private long WaitUntilParked(ulong tag)
    {
        var spin = new SpinWait();
        while (!_slots.IsParked(tag))
        {
            HarvestForCanceller();
            if (_slots.IsParked(tag))
            {
                break;
            }
            spin.SpinOnce();
        }
        return _slots.TakeParked(tag);
    }

    private EngineCancelResult CancelOnSidePath(ulong tag, IoOperation operation, out bool settled)
    {
        settled = false;
        switch (SidePath.TryCancel(operation))
        {
            case PositionalWorkers.CancelAnswer.Canceled:
                settled = true;
                _slots.TryReleaseUncompleted(tag); // it will never run and never come back: the slot is ours to free
                FinishCanceledWrite(operation);
                return EngineCancelResult.Canceled;
            case PositionalWorkers.CancelAnswer.Running:
                return EngineCancelResult.InProgress;
            default:
                return EngineCancelResult.AlreadyCompleted;
        }
    }

    /// <summary>Collects on behalf of a canceller, when no Reap is collecting right now: completions of other
    /// operations go to <c>_ready</c> (with a kick for a sleeping Reap); the canceller's own is parked for it.</summary>
    private void HarvestForCanceller()
    {
        if (!_reapLock.TryEnter())
        {
            return; // a Reap is collecting: what we look for is in its hands
        }
        int handedOver;
        try
        {
            handedOver = HarvestUnsynchronized(_harvestScratch);
            for (int i = 0; i < handedOver; i++)
            {
                _ready.Enqueue(_harvestScratch[i]);
                _harvestScratch[i] = null!;
            }
        }
        finally
        {
            _reapLock.Exit();
        }
        if (handedOver > 0)
        {
            KickIfAsleep();
        }
    }

    /// <summary>A flush still held by its scope is in no library's and no worker's hands: remove it and free its slot
    /// under the barrier lock, so that a second canceller finds both gone.</summary>
    private bool TryCancelHeldFlush(ulong tag, IoOperation operation)
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
            bool freed = _slots.TryReleaseUncompleted(tag);
            System.Diagnostics.Debug.Assert(freed, "A held flush's slot is in flight.");
        }
        return true;
    }

    /// <summary>An operation's result known to its canceller (its slot already released): ECANCELED means the library
    /// took it off its queue before it ran (Canceled, never reaped); anything else is a real result for Reap.</summary>
    private EngineCancelResult Settle(IoOperation operation, long result)
    {
        FinishCanceledWrite(operation);
        if (result == -(long)_platform.ErrnoCanceled)
        {
            return EngineCancelResult.Canceled;
        }
        operation.Result = result;
        HandOver(operation);
        return EngineCancelResult.AlreadyCompleted;
    }

    private void FinishCanceledWrite(IoOperation operation)
    {
        if (operation.Kind == OperationKind.Write && operation.Scope is not null)
        {
            FinishWrites(new ReadOnlySpan<IoOperation>(in operation));
        }
    }

    // ============================================================================================================
    // Teardown

    /// <summary>Cancels the side path's queued and waiting work and asks the library to cancel every request it still
    /// queues (they come back with ECANCELED), then collects until every slot is free: running requests finish on their
    /// own, and flushes held behind them are released and run.</summary>
    public void CancelAllAndDrain(List<IoOperation> canceled, List<IoOperation> completed)
    {
        if (_sidePath is not null)
        {
            var stopped = new List<IoOperation>();
            _sidePath.CancelAll(stopped);
            foreach (IoOperation operation in stopped)
            {
                _slots.TryReleaseUncompleted((ulong)operation.EngineSequence);
                FinishCanceledWrite(operation);
            }
            canceled.AddRange(stopped);
        }
        for (int i = 0; i < _slots.Capacity; i++)
        {
            ref SlotTable.Slot slot = ref _slots[i];
            if (SlotTable.StateOf(Volatile.Read(ref slot.Word)) == SlotTable.InFlight && !slot.OnSidePath
                && slot.Operation is IoOperation operation)
            {
                _platform.Cancel(i, operation.Fd); // a block not queued yet (a held flush) answers ALLDONE: harmless
            }
        }
        IoOperation[] scratch = _harvestScratch;
        long canceledResult = -(long)_platform.ErrnoCanceled;
        while (true)
        {
            int n;
            lock (_reapLock)
            {
                n = HarvestUnsynchronized(scratch);
                n += TakeReady(scratch.AsSpan(n));
            }
            for (int i = 0; i < n; i++)
            {
                (scratch[i].Result == canceledResult ? canceled : completed).Add(scratch[i]);
                scratch[i] = null!;
            }
            if (_slots.InUse == 0 && _ready.IsEmpty)
            {
                break;
            }
            if (n == 0)
            {
                SleepOnce(Deadline.After(TimeSpan.FromMilliseconds(10)), wanted: _slots.InUse); // all of them
            }
        }
        _sidePath?.Stop();
    }

    public void Dispose() => _platform.Dispose();
}
