using System.Diagnostics;

namespace FileAio.Engines.ThreadPool;

/// <summary>
/// The portable engine: operations run as blocking positional system calls on a few dedicated worker threads.
/// </summary>
/// <remarks>
/// <para>1. Two locks. <c>_queueLock</c> guards the pending queue, the workers' bookkeeping and the flush barrier;
/// workers and flush barriers wait on its monitor. <c>_doneLock</c> guards the finished queue and the wakeup flag;
/// the one reaper (and teardown) waits on its monitor. No code holds both at once.</para>
/// <para>2. Request states (<see cref="AioRequest.EngineState"/>): Queued → Running → Done → Reaped, or
/// Queued → Canceled. The state word carries this engine's identity in its upper bits, and Queued→Running and
/// Queued→Canceled are compare-and-swaps on it: a request is either run or cancelled, never both, and a stale Cancel
/// aimed at an engine the request has left (it was reaped and submitted elsewhere) finds a word it does not own.
/// Running→Done and Done→Reaped happen under <c>_doneLock</c>.</para>
/// <para>3. A cancelled request stays in the pending queue until a worker skips it. Each queue entry carries the
/// sequence number the request had when it was queued; a request that was cancelled, re-prepared and submitted again
/// has a new number, so its stale entry is skipped rather than run twice.</para>
/// <para>4. Flush barrier (SPEC §3): the queue is FIFO, so when a worker takes a flush every write submitted before
/// it has been taken already. The flush then waits until no worker is still running a write with a smaller
/// sequence number, and only then calls fsync. Writes submitted after the flush do not hold it up.</para>
/// <para>5. Workers are background threads, started without the submitter's ExecutionContext, created on demand up
/// to <see cref="MaxWorkers"/>, and they run no user code.</para>
/// </remarks>
internal sealed class ThreadPoolEngine : IAioEngine
{
    /// <summary>The engine holds requests in managed queues, bounded only by memory; this cap keeps one context from
    /// queueing without end. Contexts asking for "unlimited" get this.</summary>
    public const int MaxOutstanding = 1 << 20;

    /// <summary>Most worker threads per context: enough concurrent system calls to keep a device queue busy (an NVMe
    /// or virtio disk serves 8+ at once) without a thread per request. Measured against RandomAccess in bench/.</summary>
    private static readonly int MaxWorkers = Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    private const int StateReaped = 0;
    private const int StateQueued = 1;
    private const int StateCanceled = 2;
    private const int StateRunning = 3;
    private const int StateDone = 4;
    private const int StateBits = 8;

    private static int s_lastEngineId;

    /// <summary>Sequence numbers are unique across every engine in the process, so a stale queue entry can never
    /// match a request that moved to another context (see remark 3).</summary>
    private static long s_sequence;

    // ---- Guarded by _queueLock.
    private readonly object _queueLock = new();
    private readonly Queue<(AioRequest Request, long Sequence)> _pending = new();
    private readonly List<Thread> _workers = [];
    private long[] _runningWriteSequence = new long[4];   // per worker: sequence of the write it runs, 0 when none
    private int _idleWorkers;
    private int _barrierWaiters;
    private bool _shutdown;

    // ---- Guarded by _doneLock.
    private readonly object _doneLock = new();
    private readonly Queue<AioRequest> _done = new();
    private bool _wakeupPending;

    /// <summary>Requests taken by a worker and not yet in <c>_done</c>. Incremented under _queueLock, decremented
    /// under _doneLock; teardown reads it under _doneLock after shutdown stops new increments.</summary>
    private int _running;

    /// <summary>This engine's identity in the upper bits of every state word it writes (remark 2).</summary>
    private readonly int _id;

    public ThreadPoolEngine(int capacity)
    {
        Debug.Assert(capacity is > 0 and <= MaxOutstanding);
        // Wraps after 2^23 engines; a clash needs a stale Cancel to meet the one engine 8 million creations later.
        _id = Interlocked.Increment(ref s_lastEngineId) & 0x7FFFFF;
    }

    private int Tag(int state) => _id << StateBits | state;

    private void SetState(AioRequest request, int state) => Volatile.Write(ref request.EngineState, Tag(state));

    private bool TryMoveState(AioRequest request, int from, int to) =>
        Interlocked.CompareExchange(ref request.EngineState, Tag(to), Tag(from)) == Tag(from);

    public AioEngineKind Kind => AioEngineKind.ThreadPool;

    /// <summary>Positional calls take any handle: nothing to register.</summary>
    public void AssociateWithFile(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
    }

    /// <summary>Positional calls take any memory: nothing to register.</summary>
    public void AssociateWithBuffer(Memory<byte> buffer)
    {
    }

    public int Start(ReadOnlySpan<AioRequest> requests, out int refusedErrno)
    {
        refusedErrno = 0;
        lock (_queueLock)
        {
            foreach (AioRequest request in requests)
            {
                long sequence = Interlocked.Increment(ref s_sequence);
                request.EngineSequence = sequence;
                SetState(request, StateQueued);
                _pending.Enqueue((request, sequence));
            }

            // Wake idle workers for the new work and add workers when the idle ones are too few. A flush waiting at
            // its barrier sleeps on the same monitor and could swallow a single Pulse, so then wake everyone.
            if (_barrierWaiters > 0)
            {
                Monitor.PulseAll(_queueLock);
            }
            else
            {
                int wake = Math.Min(_idleWorkers, requests.Length);
                for (int i = 0; i < wake; i++)
                {
                    Monitor.Pulse(_queueLock);
                }
            }
            int missing = requests.Length - _idleWorkers;
            while (missing-- > 0 && _workers.Count < MaxWorkers)
            {
                StartWorkerUnsynchronized();
            }
        }
        return requests.Length;
    }

    public int Reap(int minCompletions, Deadline deadline, Span<AioRequest> completed, out AioWaitReason reason)
    {
        int count = 0;
        lock (_doneLock)
        {
            while (true)
            {
                while (count < completed.Length && _done.TryDequeue(out AioRequest? request))
                {
                    SetState(request, StateReaped);
                    completed[count++] = request;
                }
                if (count >= minCompletions)
                {
                    reason = AioWaitReason.Completed;
                    return count;
                }
                // Checked under the same lock Wakeup sets it under, before sleeping on that lock's monitor: a wakeup
                // can neither slip in between the check and the sleep nor be consumed twice.
                if (_wakeupPending)
                {
                    _wakeupPending = false;
                    reason = AioWaitReason.Interrupted;
                    return count;
                }
                if (deadline.HasExpired)
                {
                    reason = AioWaitReason.TimedOut;
                    return count;
                }
                Monitor.Wait(_doneLock, deadline.RemainingMillisecondsRoundedUp);
            }
        }
    }

    public EngineCancelResult Cancel(AioRequest request)
    {
        // Not yet taken by a worker (taking is the same compare-and-swap), so it never will be: the entry is skipped.
        if (TryMoveState(request, StateQueued, StateCanceled))
        {
            return EngineCancelResult.Canceled;
        }
        int word = Volatile.Read(ref request.EngineState);
        if (word >> StateBits != _id)
        {
            return EngineCancelResult.NotHeld; // the request has moved to another engine
        }
        return (word & ((1 << StateBits) - 1)) switch
        {
            StateRunning => EngineCancelResult.InProgress,
            StateCanceled => EngineCancelResult.NotHeld,
            _ => EngineCancelResult.AlreadyCompleted, // Done, or Reaped by a Wait running right now
        };
    }

    public void Wakeup()
    {
        lock (_doneLock)
        {
            _wakeupPending = true;
            Monitor.PulseAll(_doneLock);
        }
    }

    public void CancelAllAndDrain(List<AioRequest> canceled, List<AioRequest> completed)
    {
        lock (_queueLock)
        {
            _shutdown = true;
            while (_pending.TryDequeue(out var entry))
            {
                if (entry.Request.EngineSequence == entry.Sequence && TryMoveState(entry.Request, StateQueued, StateCanceled))
                {
                    canceled.Add(entry.Request);
                }
            }
            Monitor.PulseAll(_queueLock); // idle workers see the shutdown and exit
        }

        lock (_doneLock)
        {
            while (true)
            {
                while (_done.TryDequeue(out AioRequest? request))
                {
                    SetState(request, StateReaped);
                    completed.Add(request);
                }
                if (Volatile.Read(ref _running) == 0)
                {
                    break;
                }
                Monitor.Wait(_doneLock); // a worker pulses after publishing each result
            }
        }
    }

    public void Dispose()
    {
        List<Thread> workers;
        lock (_queueLock)
        {
            if (!_shutdown)
            {
                // The context always drains first; this only guards against a caller that did not.
                _shutdown = true;
                Monitor.PulseAll(_queueLock);
            }
            workers = [.. _workers];
        }
        foreach (Thread worker in workers)
        {
            worker.Join();
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    private void StartWorkerUnsynchronized()
    {
        int index = _workers.Count;
        if (index == _runningWriteSequence.Length)
        {
            Array.Resize(ref _runningWriteSequence, index * 2);
        }
        var thread = new Thread(WorkerLoop)
        {
            IsBackground = true,
            Name = $"FileAio pool worker {index}",
        };
        _workers.Add(thread);
        thread.UnsafeStart(index); // no ExecutionContext: the worker runs no user code
    }

    private void WorkerLoop(object? state)
    {
        int me = (int)state!;
        try
        {
            while (true)
            {
                AioRequest? request;
                lock (_queueLock)
                {
                    if (_runningWriteSequence[me] != 0)
                    {
                        _runningWriteSequence[me] = 0;
                        if (_barrierWaiters > 0)
                        {
                            Monitor.PulseAll(_queueLock); // a flush may be waiting for this write
                        }
                    }
                    request = TakeNextUnsynchronized(me);
                }
                if (request is null)
                {
                    return;
                }

                request.EngineResult = PositionalIo.Execute(request);

                lock (_doneLock)
                {
                    SetState(request, StateDone);
                    _done.Enqueue(request);
                    Interlocked.Decrement(ref _running);
                    Monitor.PulseAll(_doneLock);
                }
            }
        }
        catch (Exception e)
        {
            // A bug here would leave callers waiting for ever; failing loudly is the honest outcome.
            Environment.FailFast("FileAio thread-pool worker failed unexpectedly.", e);
        }
    }

    /// <summary>Blocks until a live request is queued (null at shutdown), marks it Running, and for a flush waits for
    /// the barrier of remark 4. Caller holds _queueLock.</summary>
    private AioRequest? TakeNextUnsynchronized(int me)
    {
        while (true)
        {
            while (_pending.Count == 0)
            {
                if (_shutdown)
                {
                    return null;
                }
                _idleWorkers++;
                Monitor.Wait(_queueLock);
                _idleWorkers--;
            }

            var entry = _pending.Dequeue();
            AioRequest request = entry.Request;
            if (request.EngineSequence != entry.Sequence || !TryMoveState(request, StateQueued, StateRunning))
            {
                continue; // a stale entry (remark 3), or cancelled while queued
            }
            Interlocked.Increment(ref _running);

            if (request.Kind == AioOperationKind.Write)
            {
                _runningWriteSequence[me] = entry.Sequence;
            }
            else if (request.Kind == AioOperationKind.Flush)
            {
                _barrierWaiters++;
                while (HasEarlierWriteRunningUnsynchronized(entry.Sequence))
                {
                    Monitor.Wait(_queueLock);
                }
                _barrierWaiters--;
            }
            return request;
        }
    }

    private bool HasEarlierWriteRunningUnsynchronized(long flushSequence)
    {
        for (int i = 0; i < _workers.Count; i++)
        {
            long write = _runningWriteSequence[i];
            if (write != 0 && write < flushSequence)
            {
                return true;
            }
        }
        return false;
    }
}
