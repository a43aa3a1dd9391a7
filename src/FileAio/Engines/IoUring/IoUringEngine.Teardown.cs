using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>Teardown: cancel what can be cancelled, reap until the kernel owes nothing, then unmap.</summary>
internal sealed unsafe partial class IoUringEngine
{
    public void CancelAllAndDrain(List<IoOperation> canceled, List<IoOperation> completed)
    {
        lock (_sqLock)
        {
            if (_owned && _queue.SqPending > 0)
            {
                SubmitOrFail(); // what an owner deferred must be in the kernel before it can be cancelled
            }
        }
        if (_slots.InUse > 0)
        {
            CancelEverythingInTheKernel();
        }
        if (_sidePath is not null)
        {
            var stopped = new List<IoOperation>();
            _sidePath.CancelAll(stopped);
            foreach (IoOperation operation in stopped)
            {
                _slots.Release(SlotTable.IndexOf((ulong)operation.EngineSequence));
                if (operation.Kind == OperationKind.Write && operation.Scope is not null)
                {
                    FinishWrites(new ReadOnlySpan<IoOperation>(in operation));
                }
            }
            canceled.AddRange(stopped);
        }

        // Reap until every slot is free. Flushes held behind the cancelled or finished writes are released, and run.
        while (_ready.TryDequeue(out IoOperation? ready))
        {
            completed.Add(ready);
        }
        while (_slots.InUse > 0)
        {
            if (HarvestForTeardown(canceled, completed) == 0 && _slots.InUse > 0)
            {
                WaitForTeardown();
            }
        }

        // Last, an owned ring's armed doorbell read: ring it, and it completes without being armed again.
        _stopping = true;
        if (_owned)
        {
            RingDoorbell();
            while (_eventFdArmed)
            {
                if (HarvestForTeardown(canceled, completed) == 0 && _eventFdArmed)
                {
                    WaitForTeardown();
                }
            }
        }
        _sidePath?.Stop();
    }

    /// <summary>Asks the kernel to cancel everything it can; running disk I/O it cannot stop finishes on its own.</summary>
    private void CancelEverythingInTheKernel()
    {
        if (_hasSyncCancel)
        {
            _queue.SyncCancel(0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
            return;
        }
        // Before 6.0 there is no sync cancel, and IORING_ASYNC_CANCEL_ANY (5.19) may be missing too: one ASYNC_CANCEL
        // per operation in the ring. Their answers do not matter; the operations' CQEs do.
        for (int i = 0; i < _slots.Capacity; i++)
        {
            long word = Volatile.Read(ref _slots[i].Word);
            if (SlotTable.StateOf(word) == SlotTable.InFlight && !_slots[i].OnSidePath)
            {
                PostAsyncCancel(SlotTable.UserData(i, SlotTable.GenerationOf(word)), 0);
            }
        }
    }

    private int HarvestForTeardown(List<IoOperation> canceled, List<IoOperation> completed)
    {
        int n;
        lock (_cqLock)
        {
            n = HarvestUnsynchronized(_harvestScratch, out _);
        }
        for (int i = 0; i < n; i++)
        {
            IoOperation operation = _harvestScratch[i];
            _harvestScratch[i] = null!;
            (operation.Result == -Errno.ECANCELED ? canceled : completed).Add(operation);
        }
        return n;
    }

    private void WaitForTeardown()
    {
        if (_owned)
        {
            _queue.SubmitAndWait(1, Deadline.Infinite);
        }
        else
        {
            _queue.Wait(1, Deadline.Infinite);
        }
    }

    public void Dispose()
    {
        lock (_sqLock)
        {
            _queue.Dispose();
            if (_eventFd >= 0)
            {
                Syscalls.Close(_eventFd);
                System.Runtime.InteropServices.NativeMemory.Free(_eventFdValue);
            }
        }
    }
}
