using FileAio.Engines.ThreadPool;
using FileAio.Interop;

namespace FileAio.Engines.LinuxAio;

/// <summary>
/// Cancel and teardown. The kernel cancels almost nothing here: <c>io_cancel</c> finds only requests with a cancel
/// callback (polls, some device files), so for file I/O it answers EINVAL and the request finishes on its own — the
/// caller gets InProgress and the buffer stays pinned until the completion arrives. What the engine itself holds (a
/// flush waiting for its scope's writes, an operation queued on the side path or waiting there on an empty FIFO) is
/// cancelled for real.
/// </summary>
/// <remarks>
/// The kernel's answers, mapped once (SPEC §3): whatever io_cancel says (-EINVAL, not cancellable or not found;
/// -EINPROGRESS, cancellation started; 0 on no kernel worth naming), the request's io_event comes through the ring,
/// so the answer is InProgress — or AlreadyCompleted when that event was collected meanwhile — and a request the
/// kernel did stop is reported by Wait with status Canceled.
/// </remarks>
internal sealed unsafe partial class LinuxAioEngine
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
            return EngineCancelResult.Canceled; // its scope still held it: it never reached the kernel
        }
        switch (_slots.TryBeginCancel(tag))
        {
            case SlotTable.CancelStart.Busy:
                return EngineCancelResult.InProgress;
            case SlotTable.CancelStart.Gone:
                return EngineCancelResult.AlreadyCompleted;
        }
        bool settled = false;
        EngineCancelResult answer = _slots[index].OnSidePath
            ? CancelOnSidePath(tag, operation, out settled)
            : CancelInKernel(index);
        if (settled)
        {
            return answer; // decided here, and the slot is already free
        }
        // Not cancelled: back to InFlight, unless its completion arrived (and was parked) while we asked.
        return _slots.EndCancel(tag, out long parked) ? Settle(operation, parked) : answer;
    }

    private EngineCancelResult CancelInKernel(int index)
    {
        // The slot is held (CancelRequested), so its iocb cannot be reused by another request while we name it. Every
        // answer leaves the event to the ring: -EINVAL, it runs on (file I/O) or has finished and waits there;
        // -EINPROGRESS, cancellation started; 0 (which only a short-lived 2024 kernel change gave), the same.
        // Collect once, so that a finished one is parked for us and answered AlreadyCompleted.
        _queue.Cancel(index);
        HarvestForCanceller();
        return EngineCancelResult.InProgress;
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
                return EngineCancelResult.AlreadyCompleted; // finished: its completion is on the way to the harvest
        }
    }

    /// <summary>Collects on behalf of a canceller, when no Reap is collecting right now: completions of other
    /// operations go to <c>_ready</c> (with a kick for a Reap asleep in io_getevents); the canceller's own is parked
    /// for it by the slot table.</summary>
    private void HarvestForCanceller()
    {
        if (!_reapLock.TryEnter())
        {
            return; // a Reap is collecting: what we look for is in its hands, and EndCancel sees it parked or not
        }
        int handedOver;
        bool rang;
        try
        {
            handedOver = HarvestUnsynchronized(_harvestScratch, Deadline.Expired, out rang);
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
        if (handedOver > 0 || rang)
        {
            // A kick for what we handed over; and a doorbell we consumed is rung again, for a Reap about to sleep
            // (a wakeup's flag is still set: only a Reap takes it).
            _queue.RingDoorbell();
        }
    }

    /// <summary>A flush still held by its scope is in no kernel's and no worker's hands: remove it and free its slot
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

    /// <summary>An operation's result known to its canceller (its slot already released): -ECANCELED means it never
    /// ran (Canceled, never reaped); anything else is a real result for Reap to report.</summary>
    private EngineCancelResult Settle(IoOperation operation, long result)
    {
        FinishCanceledWrite(operation);
        if (result == -Errno.ECANCELED)
        {
            return EngineCancelResult.Canceled;
        }
        operation.Result = result;
        _ready.Enqueue(operation);
        _queue.RingDoorbell(); // a kick: a Reap asleep in io_getevents must look at _ready
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

    /// <summary>Cancels what the engine holds itself (the side path's queued and waiting operations), then collects
    /// until every slot is free: requests in the kernel finish on their own, and flushes held behind them are
    /// released and run.</summary>
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
        IoOperation[] scratch = _harvestScratch;
        bool sleep = false;
        while (true)
        {
            int n;
            lock (_reapLock)
            {
                n = HarvestUnsynchronized(scratch, sleep ? Deadline.After(TimeSpan.FromMilliseconds(10)) : Deadline.Expired);
                n += TakeReady(scratch.AsSpan(n));
            }
            for (int i = 0; i < n; i++)
            {
                (scratch[i].Result == -Errno.ECANCELED ? canceled : completed).Add(scratch[i]);
                scratch[i] = null!;
            }
            if (_slots.InUse == 0 && _ready.IsEmpty)
            {
                break;
            }
            sleep = n == 0;
        }
        _sidePath?.Stop();
    }

    public void Dispose() => _queue.Dispose();
}
