namespace FileAio.Engines.PosixAio;

/// <summary>Reaping: finished requests and side-path completions become completed operations; sleeping; wakeups.</summary>
internal sealed partial class PosixAioEngine
{
    public int Reap(int minCompletions, Deadline deadline, Span<IoOperation> completed, out bool interrupted)
    {
        int count = 0;
        interrupted = false;
        while (true)
        {
            lock (_reapLock)
            {
                count += HarvestUnsynchronized(completed[count..]);
                count += TakeReady(completed[count..]);
            }
            if (Volatile.Read(ref _wakeupPending) == 1 && Interlocked.Exchange(ref _wakeupPending, 0) == 1)
            {
                interrupted = true;
                return count;
            }
            if (count >= minCompletions || count == completed.Length || deadline.HasExpired)
            {
                return count;
            }
            SleepOnce(deadline, Math.Min(minCompletions, completed.Length) - count);
        }
    }

    /// <summary>One sleep (remark 3 of the engine): announced, then the flags checked, then the platform's sleep over
    /// the armed requests and its kick, told how many completions are still wanted.</summary>
    private void SleepOnce(Deadline deadline, int wanted)
    {
        Interlocked.Exchange(ref _asleep, 1);
        _platform.BeginSleep();
        try
        {
            if (Volatile.Read(ref _wakeupPending) == 0 && _ready.IsEmpty && _sideDone.IsEmpty)
            {
                _platform.Sleep(deadline, wanted);
            }
        }
        finally
        {
            _platform.EndSleep();
            Volatile.Write(ref _asleep, 0);
        }
    }

    public void Wakeup()
    {
        // Full fence: the flag is visible before _asleep is read, so a sleeper either sees the flag or is kicked.
        Interlocked.Exchange(ref _wakeupPending, 1);
        if (Volatile.Read(ref _asleep) == 1)
        {
            _platform.Kick();
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
    /// Collects the requests the library finished and the completions the side path handed over (as many as fit):
    /// each frees its slot and is handed out, or is parked for a canceller deciding about it. Then counts finished
    /// writes out of their scopes and starts the flushes they held. Caller holds <c>_reapLock</c>.
    /// </summary>
    private int HarvestUnsynchronized(Span<IoOperation> output)
    {
        int limit = Math.Min(output.Length, _freed.Length);
        int n = 0, freed = 0;
        _finishedWriteCount = 0;
        if (limit > 0 && _slots.InUse > 0)
        {
            int finished = _platform.Collect(_finished.AsSpan(0, limit));
            for (int i = 0; i < finished; i++)
            {
                if (OnCompletion(_finished[i].Tag, _finished[i].Result, ref freed) is IoOperation operation)
                {
                    output[n++] = operation;
                }
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
