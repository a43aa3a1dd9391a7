using FileAio.Interop;
using FileAio.Platform;

namespace FileAio.Engines.IoUring;

/// <summary>Reaping: CQEs and side-path completions become completed operations.</summary>
internal sealed unsafe partial class IoUringEngine
{
    public int Reap(int minCompletions, Deadline deadline, Span<IoOperation> completed, out bool interrupted)
    {
        int count = 0;
        interrupted = false;
        bool polled = false;
        if (_deferSubmission)
        {
            // An owner's deferred SQEs go in now, in the enter that also lets the kernel post what is ready.
            SubmitAndWaitOrThrow(0, Deadline.Expired);
            polled = true;
        }
        while (true)
        {
            lock (_cqLock)
            {
                // What was parked first: it finished before anything still in the ring (a canceller's harvest took it,
                // and may have started the flushes its write held), and a write goes out no later than a flush it
                // released (IAioEngine, remarks). Then the ring, which consumes the kicks that announced parked items,
                // then _ready again for what those kicks announced; a kick posted after the harvest is a new one, and
                // its items are taken on the next round.
                count += TakeReady(completed[count..]);
                count += HarvestUnsynchronized(completed[count..], out _);
                count += TakeReady(completed[count..]);
            }
            // The flag, not the doorbell's CQE, is what says a wakeup is pending: that CQE may still be on its way (an
            // owned ring's eventfd read is task work the kernel runs on a later enter), or a canceller's harvest may
            // have taken it, and a Wait that found enough completions, or timed out, must still report the wakeup.
            if (TakePendingWakeup())
            {
                interrupted = true;
            }
            if (interrupted || count >= minCompletions || count == completed.Length)
            {
                return count;
            }
            if (deadline.HasExpired)
            {
                if (!polled)
                {
                    polled = true;
                    if (PollKernel())
                    {
                        continue;
                    }
                }
                return count;
            }
            // Ask the kernel for one CQE, not for all we still need: its wake target is fixed at entry, so a doorbell
            // alone would not end a wait for several. The loop counts in user space.
            try
            {
                if (_owned)
                {
                    SubmitAndWaitOrThrow(1, deadline);
                }
                else
                {
                    CheckWaitResult(_queue.Wait(1, deadline));
                }
            }
            catch
            {
                // What this call already harvested has left its slots: keep it for the next Reap, or it is lost.
                for (int i = 0; i < count; i++)
                {
                    _ready.Enqueue(completed[i]);
                    completed[i] = null!;
                }
                throw;
            }
        }
    }

    /// <summary>One look at the kernel without waiting; true when it may have posted something. An owner submits what
    /// is pending and runs the completion work DEFER_TASKRUN keeps for it; a shared ring flushes the kernel's
    /// overflow list when there is one.</summary>
    private bool PollKernel()
    {
        if (_owned)
        {
            SubmitAndWaitOrThrow(0, Deadline.Expired);
            return true;
        }
        if (_queue.CqOverflowPending)
        {
            _queue.GetEvents();
            return true;
        }
        return false;
    }

    /// <summary>An owner's enter: submits what is pending and waits for <paramref name="minComplete"/> CQEs or the
    /// deadline. The submission must get through (the operations were accepted), so a transient refusal is retried
    /// on the next enter and anything else is an error.</summary>
    private void SubmitAndWaitOrThrow(uint minComplete, Deadline deadline) =>
        // No _sqLock around a call that may block: in an owned ring no other thread writes SQEs (the doorbell is an
        // eventfd), so the owner is both sides of the queue.
        CheckWaitResult(_queue.SubmitAndWait(minComplete, deadline));

    private static void CheckWaitResult(int result)
    {
        // ETIME: the deadline; EINTR: a signal (the caller recomputes the time); EBUSY, EAGAIN, ENOMEM: the kernel
        // could not take the submission or flush its overflow right now, and is asked again on the next enter.
        if (result < 0 && result is not (-Errno.ETIME or -Errno.EINTR or -Errno.EBUSY or -Errno.EAGAIN or -Errno.ENOMEM))
        {
            throw new IOException($"io_uring_enter failed: {Errors.Describe(-result)}.", -result);
        }
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
    /// Consumes the CQEs the kernel has posted and the completions the side path handed over (as many as fit in
    /// <paramref name="output"/>): each frees its slot and is handed out, or is parked for a canceller deciding about
    /// it. Then counts finished writes out of their scopes and starts the flushes they held. Caller holds
    /// <c>_cqLock</c>.
    /// </summary>
    /// <param name="output">Where the finished operations go.</param>
    /// <param name="rang">Whether the doorbell's CQE was among those consumed.</param>
    private int HarvestUnsynchronized(Span<IoOperation> output, out bool rang)
    {
        rang = false;
        int limit = Math.Min(output.Length, _freed.Length);
        int n = 0, freed = 0;
        _finishedWriteCount = 0;
        uint head = _queue.CqHead;
        uint tail = _queue.CqTail;
        while (head != tail && n < limit)
        {
            IoUringCqe* cqe = _queue.Cqe(head);
            ulong userData = cqe->UserData;
            int result = cqe->Res;
            head++;
            if (userData >= FirstInternalUserData)
            {
                rang |= OnInternalCqe(userData, result);
                continue;
            }
            if (OnCompletion(userData, result, ref freed) is IoOperation operation)
            {
                output[n++] = operation;
            }
        }
        _queue.AdvanceCq(head);
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

    /// <summary>Counts finished writes out of their scopes, and starts the flushes that were waiting for them.</summary>
    private void FinishWrites(ReadOnlySpan<IoOperation> writes)
    {
        if (FlushBarrier.Finish(_barrierLock, writes))
        {
            StartReleasedFlushes(writes);
        }
    }

    /// <summary>One completion of an operation: hand it out, or park it for a canceller that is deciding about it.</summary>
    private IoOperation? OnCompletion(ulong userData, long result, ref int freed)
    {
        if (_slots.TakeCompletion(userData, result, out IoOperation? operation, out int index) == SlotTable.CompletionOutcome.Parked)
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

    /// <summary>One of the engine's own CQEs; true for the doorbell's.</summary>
    private bool OnInternalCqe(ulong userData, int result)
    {
        switch (userData)
        {
            case DoorbellUserData:
                OnDoorbell();
                return true;
            case CancelUserData:
                OnAsyncCancelAnswer(result);
                return false;
            default:
                return false;
        }
    }
}
