using FileAio.Interop;
using FileAio.Platform;

namespace FileAio.Engines.LinuxAio;

/// <summary>Reaping: io_events and side-path completions become completed operations; wakeups.</summary>
internal sealed unsafe partial class LinuxAioEngine
{
    public int Reap(int minCompletions, Deadline deadline, Span<IoOperation> completed, out bool interrupted)
    {
        int count = 0;
        interrupted = false;
        bool sleep = false; // the first look never sleeps: what is there already is taken first
        while (true)
        {
            try
            {
                lock (_reapLock)
                {
                    // A sleep in io_getevents holds the lock: a canceller then leaves the collecting to us (it only
                    // collects when no Reap does), and whatever it parks or hands over rings the doorbell.
                    // What was parked first (it finished before what io_getevents still holds, and a write goes out
                    // no later than a flush it released: IAioEngine, remarks); a sleep only when that was not enough.
                    count += TakeReady(completed[count..]);
                    bool wait = sleep && count < minCompletions;
                    count += HarvestUnsynchronized(completed[count..], wait ? deadline : Deadline.Expired);
                    count += TakeReady(completed[count..]);
                }
            }
            catch
            {
                // What this call already collected has left its slots: keep it for the next Reap, or it is lost.
                for (int i = 0; i < count; i++)
                {
                    _ready.Enqueue(completed[i]);
                    completed[i] = null!;
                }
                throw;
            }
            // The flag, not the doorbell, says a wakeup is pending (remark 5).
            if (Volatile.Read(ref _wakeupPending) == 1 && Interlocked.Exchange(ref _wakeupPending, 0) == 1)
            {
                interrupted = true;
                return count;
            }
            if (count >= minCompletions || count == completed.Length || deadline.HasExpired)
            {
                return count;
            }
            sleep = true;
        }
    }

    public void Wakeup()
    {
        // Full fence: the flag is visible before the doorbell rings, so the Reap that wakes sees it.
        Interlocked.Exchange(ref _wakeupPending, 1);
        _queue.RingDoorbell();
    }

    private int TakeReady(Span<IoOperation> output)
    {
        int n = 0;
        while (n < output.Length && _ready.TryDequeue(out IoOperation? operation))
        {
            output[n++] = operation;
        }
        return n;
    }

    /// <summary>
    /// Collects the io_events the kernel has posted (as many as fit; sleeping until one comes when
    /// <paramref name="wait"/> has not expired) and the completions the side path handed over: each frees its slot and
    /// is handed out, or is parked for a canceller deciding about it. The doorbell's event is answered by draining its
    /// eventfd and arming its poll again — before the side path's list is read, so a kick drained here announced
    /// items this harvest takes. Then counts finished writes out of their scopes and starts the flushes they held.
    /// Caller holds <c>_reapLock</c>.
    /// </summary>
    private int HarvestUnsynchronized(Span<IoOperation> output, Deadline wait) => HarvestUnsynchronized(output, wait, out _);

    /// <inheritdoc cref="HarvestUnsynchronized(Span{IoOperation}, Deadline)"/>
    /// <param name="output">Where the finished operations go.</param>
    /// <param name="wait">Until when to sleep for a first event; expired: not at all.</param>
    /// <param name="rang">Whether the doorbell's event was among those collected.</param>
    private int HarvestUnsynchronized(Span<IoOperation> output, Deadline wait, out bool rang)
    {
        rang = false;
        int limit = Math.Min(output.Length, _freed.Length);
        int n = 0, freed = 0;
        _finishedWriteCount = 0;
        if (limit > 0)
        {
            // At most as many events as the output has room for: the doorbell's, if among them, takes none.
            int events = _queue.Collect(limit, _sideDone.IsEmpty && _ready.IsEmpty ? wait : Deadline.Expired);
            if (events < 0)
            {
                throw new IOException($"io_getevents failed: {Errors.Describe(-events)}.", -events);
            }
            for (int i = 0; i < events; i++)
            {
                ref IoEvent e = ref _queue.Event(i);
                if (e.Data == LinuxAioQueue.DoorbellTag)
                {
                    rang = true;
                    continue;
                }
                if (OnCompletion(e.Data, e.Res, ref freed) is IoOperation operation)
                {
                    output[n++] = operation;
                }
            }
            if (rang)
            {
                RearmDoorbell();
            }
        }
        while (n < limit && _sideDone.TryDequeue(out IoOperation? done))
        {
            if (OnCompletion((ulong)done.EngineSequence, done.Result, ref freed) is IoOperation operation)
            {
                output[n++] = operation;
            }
        }
        if (freed > 0)
        {
            _slots.Return(_freed.AsSpan(0, freed));
        }
        if (_finishedWriteCount > 0)
        {
            FinishWrites(_finishedWrites.AsSpan(0, _finishedWriteCount));
            _finishedWrites.AsSpan(0, _finishedWriteCount).Clear();
        }
        return n;
    }

    /// <summary>The doorbell rang: reset its counter, then watch it again. A ring that lands between the two makes the
    /// new poll complete at once. Caller holds <c>_reapLock</c>.</summary>
    private void RearmDoorbell()
    {
        _queue.DrainDoorbell();
        while (true)
        {
            int errno = _queue.ArmDoorbell();
            if (errno == 0)
            {
                return;
            }
            if (errno is not (Errno.EAGAIN or Errno.ENOMEM))
            {
                // Without its doorbell the engine could sleep through a wakeup: fail loudly rather than hang.
                throw new IOException($"io_submit of the Linux AIO doorbell failed: {Errors.Describe(errno)}.", errno);
            }
            Thread.Sleep(1); // the kernel is short of memory right now: the doorbell has its reserved place, so retry
        }
    }

    private IoOperation? OnCompletion(ulong tag, long result, ref int freed)
    {
        if (_slots.TakeCompletion(tag, result, out IoOperation? operation, out int index) == SlotTable.CompletionOutcome.Parked)
        {
            return null; // the canceller takes it from here
        }
        if (operation!.Kind == OperationKind.Write && operation.Scope is not null)
        {
            _finishedWrites[_finishedWriteCount++] = operation;
        }
        _freed[freed++] = index;
        return operation;
    }

    /// <summary>Counts finished writes out of their scopes, and starts the flushes that were waiting for them.</summary>
    private void FinishWrites(ReadOnlySpan<IoOperation> writes)
    {
        if (FlushBarrier.Finish(_barrierLock, writes))
        {
            StartReleasedFlushes(writes);
        }
    }
}
