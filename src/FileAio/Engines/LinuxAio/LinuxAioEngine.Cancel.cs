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
/// The kernel's answers, mapped once (SPEC §3): -EINPROGRESS, cancellation started, its io_event still comes
/// (InProgress); 0, the ABI of kernels before 4.19, cancelled with the event handed back here and none in the ring
/// (Canceled, or the result it had); -EINVAL or -EAGAIN, not cancellable or not found (InProgress, or
/// AlreadyCompleted when its completion arrived meanwhile).
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
        EngineCancelResult answer = _slots[index].OnSidePath
            ? CancelOnSidePath(tag, operation, out bool settled)
            : CancelInKernel(tag, index, operation, out settled);
        if (settled)
        {
            return answer; // decided here, and the slot is already free
        }
        // Not cancelled: back to InFlight, unless its completion arrived (and was parked) while we asked.
        return _slots.EndCancel(tag, out long parked) ? Settle(operation, parked) : answer;
    }

    private EngineCancelResult CancelInKernel(ulong tag, int index, IoOperation operation, out bool settled)
    {
        settled = false;
        // The slot is held (CancelRequested), so its iocb cannot be reused by another request while we name it.
        int answer = _queue.Cancel(index, out IoEvent handedBack);
        if (answer != 0)
        {
            // -EINPROGRESS: the event comes through the ring; -EINVAL: it runs on, or it has finished and its event
            // waits in the ring. Collect once, so that a finished one is parked for us and answered AlreadyCompleted.
            HarvestForCanceller();
            return EngineCancelResult.InProgress;
        }
        // Pre-4.19 ABI: cancelled, and its event is ours, not the ring's.
        settled = true;
        bool released = _slots.TryReleaseUncompleted(tag);
        System.Diagnostics.Debug.Assert(released, "A request the kernel handed back was held by its canceller.");
        return Settle(operation, handedBack.Res);
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
    /// operations go to <c>_ready</c> (with a kick for a Reap asleep on the eventfd); the canceller's own is parked
    /// for it by the slot table.</summary>
    private void HarvestForCanceller()
    {
        if (!_reapLock.TryEnter())
        {
            return; // a Reap is collecting: what we look for is in its hands, and EndCancel sees it parked or not
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
            _queue.Signal();
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
        _queue.Signal(); // a kick: a Reap asleep on the eventfd must look at _ready
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
                (scratch[i].Result == -Errno.ECANCELED ? canceled : completed).Add(scratch[i]);
                scratch[i] = null!;
            }
            if (_slots.InUse == 0 && _ready.IsEmpty)
            {
                break;
            }
            if (n == 0)
            {
                _queue.WaitForSignal(Deadline.After(TimeSpan.FromMilliseconds(10)));
            }
        }
        _sidePath?.Stop();
    }

    public void Dispose() => _queue.Dispose();
}
