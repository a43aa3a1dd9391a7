using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines.ThreadPool;

/// <summary>
/// The portable engine: operations run as blocking positional system calls on a few dedicated worker threads
/// (<see cref="PositionalWorkers"/>); finished ones wait in a queue for <see cref="Reap"/>.
/// </summary>
/// <remarks>
/// <para>1. Locks. <c>_barrierLock</c> guards the flush scopes of this engine's operations; <c>_doneLock</c> guards
/// the finished queue, the wakeup flag and the count of what the engine owes, and the one reaper (and teardown)
/// waits on its monitor. The order is <c>_barrierLock</c>, then the workers' queue or <c>_doneLock</c>, never the
/// other way round. A finished write is queued for Reap first and lets its flushes go after (OnFinished).</para>
/// <para>2. Flushes (SPEC §3, §4): a flush whose scope still has earlier writes in flight is held, outside the
/// workers, until the last of them finishes; then it is queued. No worker blocks for a barrier, and writes started
/// after the flush do not hold it up.</para>
/// <para>3. Cancel: a queued operation, a held flush, and one waiting on an empty FIFO are cancelled (never run,
/// buffer untouched); one inside its system call is in progress and is reported when it finishes. Both engine
/// modes (a context's callers, an engine thread's loop) use it the same way: it needs no owning thread.</para>
/// </remarks>
internal sealed class ThreadPoolEngine : IAioEngine
{
    /// <summary>The engine holds operations in managed queues, bounded only by memory; this cap keeps one context from
    /// queueing without end. Contexts asking for "unlimited" get this.</summary>
    public const int MaxOutstanding = 1 << 20;

    private readonly PositionalWorkers _workers;

    // ---- Guarded by _barrierLock.
    private readonly Lock _barrierLock = new();
    private bool _stopping;            // teardown: flushes released from now on are cancelled, not run
    private readonly List<IoOperation> _canceledByTeardown = [];

    // ---- Guarded by _doneLock.
    private readonly object _doneLock = new();
    private readonly Queue<IoOperation> _done = new();
    private bool _wakeupPending;
    private int _owed;                 // accepted and neither in _done nor cancelled

    public ThreadPoolEngine(int maxWorkers = 0)
    {
        _workers = new PositionalWorkers("FileAio pool worker", maxWorkers > 0 ? maxWorkers : PositionalWorkers.DefaultMaxWorkers, OnFinished);
    }

    /// <summary>Positional calls take any handle: nothing to register.</summary>
    public void AssociateWithFile(SafeFileHandle file)
    {
    }

    /// <summary>Positional calls take any memory: nothing to register.</summary>
    public void AssociateWithBuffer(Memory<byte> buffer)
    {
    }

    /// <summary>Nothing is registered: nothing to forget.</summary>
    public void ForgetFile(SafeFileHandle file)
    {
    }

    /// <summary>A vectored write is one pwritev on a worker. Not on Windows, where it is one positional write per
    /// segment and a failure part-way reports none of them written (every rider would be written again).</summary>
    public bool GathersWrites => !OperatingSystem.IsWindows();

    public int Start(ReadOnlySpan<IoOperation> operations, out int refusedErrno)
    {
        refusedErrno = 0;
        lock (_doneLock)
        {
            _owed += operations.Length;
        }
        lock (_barrierLock)
        {
            foreach (IoOperation operation in operations)
            {
                operation.EngineState = 0; // no pool's word: a stale state from an earlier use must not be taken for ours
                if (operation.Scope is FlushScope scope)
                {
                    if (operation.Kind == OperationKind.Write)
                    {
                        scope.WriteStarted(operation);
                    }
                    else if (operation.Kind == OperationKind.Flush && !scope.TryPass(operation))
                    {
                        continue; // held (remark 2)
                    }
                }
                _workers.Enqueue(operation);
            }
        }
        return operations.Length;
    }

    /// <summary>A worker finished an operation (on the worker thread).</summary>
    private void OnFinished(IoOperation operation)
    {
        // The write goes to the finished queue before the flushes it held are let go (remark 1): a Reap then hands a
        // write out no later than any flush it released, as the kernel engines do (IAioEngine). The loop relies on
        // that: a gathered write that wrote less than asked must be seen before an fsync it released (WriteGather).
        // The released flushes are still owed until they finish, so a teardown in between waits for them. Once queued
        // the operation is the reaper's, which may complete and reuse it at once: its scope and epoch are read first.
        FlushScope? scope = operation.Kind == OperationKind.Write ? operation.Scope : null;
        long epoch = operation.WriteEpoch;
        lock (_doneLock)
        {
            _owed--;
            _done.Enqueue(operation);
            Monitor.PulseAll(_doneLock);
        }
        if (scope is not null)
        {
            lock (_barrierLock)
            {
                LeaveScopeUnsynchronized(scope, epoch);
            }
        }
    }

    /// <summary>A write of a scope has left the kernel (finished or cancelled): the flushes it held may go.</summary>
    private void LeaveScopeUnsynchronized(IoOperation operation)
    {
        if (operation.Kind == OperationKind.Write && operation.Scope is FlushScope scope)
        {
            LeaveScopeUnsynchronized(scope, operation.WriteEpoch);
        }
    }

    /// <summary>A write of <paramref name="scope"/>'s epoch <paramref name="epoch"/> has left the kernel: the flushes
    /// it held may go.</summary>
    private void LeaveScopeUnsynchronized(FlushScope scope, long epoch)
    {
        if (!scope.WriteFinished(epoch))
        {
            return;
        }
        while (scope.TryRelease(out IoOperation flush))
        {
            if (_stopping)
            {
                _canceledByTeardown.Add(flush);
                Forget();
            }
            else
            {
                _workers.Enqueue(flush);
            }
        }
    }

    public int Reap(int minCompletions, Deadline deadline, Span<IoOperation> completed, out bool interrupted)
    {
        int count = 0;
        interrupted = false;
        lock (_doneLock)
        {
            while (true)
            {
                while (count < completed.Length && _done.TryDequeue(out IoOperation? operation))
                {
                    completed[count++] = operation;
                }
                // Checked under the same lock Wakeup sets it under, before sleeping on that lock's monitor: a wakeup
                // can neither slip in between the check and the sleep nor be consumed twice.
                if (_wakeupPending)
                {
                    _wakeupPending = false;
                    interrupted = true;
                    return count;
                }
                if (count >= minCompletions || deadline.HasExpired)
                {
                    return count;
                }
                Monitor.Wait(_doneLock, deadline.RemainingMillisecondsRoundedUp);
            }
        }
    }

    public EngineCancelResult Cancel(IoOperation operation)
    {
        if (operation.Kind == OperationKind.Flush && operation.Scope is FlushScope scope)
        {
            lock (_barrierLock)
            {
                if (scope.TryRemove(operation))
                {
                    Forget();
                    return EngineCancelResult.Canceled; // held behind writes: it never reached a worker
                }
            }
        }
        switch (_workers.TryCancel(operation))
        {
            case PositionalWorkers.CancelAnswer.Canceled:
                lock (_barrierLock)
                {
                    LeaveScopeUnsynchronized(operation); // a cancelled write no longer holds flushes back
                }
                Forget();
                return EngineCancelResult.Canceled;
            case PositionalWorkers.CancelAnswer.Running:
                return EngineCancelResult.InProgress;
            case PositionalWorkers.CancelAnswer.Finished:
                return EngineCancelResult.AlreadyCompleted; // in the finished queue, or reaped by a Reap running now
            default:
                return EngineCancelResult.NotHeld;
        }
    }

    public void Wakeup()
    {
        lock (_doneLock)
        {
            _wakeupPending = true;
            Monitor.PulseAll(_doneLock);
        }
    }

    public void CancelAllAndDrain(List<IoOperation> canceled, List<IoOperation> completed)
    {
        lock (_barrierLock)
        {
            _stopping = true;
        }
        var stopped = new List<IoOperation>();
        _workers.CancelAll(stopped);
        lock (_barrierLock)
        {
            foreach (IoOperation operation in stopped)
            {
                LeaveScopeUnsynchronized(operation);
                Forget();
            }
        }
        canceled.AddRange(stopped);

        // Wait until the engine owes nothing: running operations finish, and the flushes they held are cancelled.
        lock (_doneLock)
        {
            while (true)
            {
                while (_done.TryDequeue(out IoOperation? operation))
                {
                    completed.Add(operation);
                }
                if (_owed == 0)
                {
                    break;
                }
                Monitor.Wait(_doneLock); // a worker pulses after queueing each result, Forget after each cancel
            }
        }
        lock (_barrierLock)
        {
            canceled.AddRange(_canceledByTeardown);
            _canceledByTeardown.Clear();
        }
    }

    /// <summary>An accepted operation left without a result (cancelled): the engine owes one less.</summary>
    private void Forget()
    {
        lock (_doneLock)
        {
            _owed--;
            Monitor.PulseAll(_doneLock);
        }
    }

    public void Dispose() => _workers.Stop();
}
