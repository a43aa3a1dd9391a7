using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines;

/// <summary>
/// One host mechanism (io_uring, the thread pool...) behind one small interface, serving both layers: a context
/// calls it from its callers' threads (caller-driven submit and wait), an async host's engine thread calls it from a
/// loop it owns. Engines see only <see cref="IoOperation"/>s.
/// </summary>
/// <remarks>
/// <para>Division of labour. The layer above owns state, argument checks, capacity and pinning: an operation reaches
/// <see cref="Start"/> described, pinned and counted. An engine starts operations, reaps them, cancels one, holds
/// flushes behind the writes of their <see cref="FlushScope"/>, and wakes its waiter.</para>
/// <para>The promise: every operation accepted by <see cref="Start"/> comes back exactly once — from
/// <see cref="Reap"/> (or <see cref="CancelAllAndDrain"/>) with <see cref="IoOperation.Result"/> set, or as the
/// <see cref="EngineCancelResult.Canceled"/> answer of <see cref="Cancel"/> — and when it comes back the kernel no
/// longer touches its memory.</para>
/// <para>Order: <see cref="Reap"/> hands a write out no later than any flush that write's completion released (in
/// the same call, ahead of it, or in an earlier one), when <see cref="Cancel"/> runs on the reaping thread, as in an
/// owned engine (a canceller on another thread may settle a write after a Reap has begun). The engine loop's write
/// gathering relies on it; contexts, which cancel from any thread, do not gather.</para>
/// <para>Threading (<see cref="EngineSettings.Owned"/>). A shared engine: <see cref="Start"/> one call at a time
/// (the context's submit lock); <see cref="Reap"/> one thread at a time, concurrently with Start, Cancel and Wakeup;
/// <see cref="Cancel"/> and <see cref="Wakeup"/> from any thread. An owned engine: every call from the thread that
/// created it, except <see cref="Wakeup"/>, which any thread may call. <see cref="CancelAllAndDrain"/> and
/// <see cref="IDisposable.Dispose"/> run alone, after every other call has returned.</para>
/// </remarks>
internal interface IAioEngine : IDisposable
{
    /// <summary>
    /// Hands <paramref name="operations"/> to the host, in order; returns how many were accepted. When the host
    /// refused the operation right after the accepted ones outright, <paramref name="refusedErrno"/> is its errno
    /// (else 0); the operations after that one were not started.
    /// </summary>
    int Start(ReadOnlySpan<IoOperation> operations, out int refusedErrno);

    /// <summary>
    /// Collects finished operations into <paramref name="completed"/> (as many as are ready and fit), blocking until
    /// at least <paramref name="minCompletions"/> are collected, the deadline passes, or a wakeup is consumed
    /// (<paramref name="interrupted"/>; the wakeup is reported even when enough completions came with it).
    /// Interrupted system calls are retried with the time left recomputed. An expired deadline makes it a poll. On an
    /// engine with <see cref="EngineSettings.DeferSubmission"/>, it first submits what Start left in the queue.
    /// </summary>
    int Reap(int minCompletions, Deadline deadline, Span<IoOperation> completed, out bool interrupted);

    /// <summary>Tries to stop one started operation. See <see cref="EngineCancelResult"/>.</summary>
    EngineCancelResult Cancel(IoOperation operation);

    /// <summary>Whether a vectored write is one kernel operation here, as a plain write is — so an engine loop may
    /// gather adjacent writes into one (WriteGather). False where vectored transfers take a slower path.</summary>
    bool GathersWrites { get; }

    /// <summary>Makes the current <see cref="Reap"/> (or the next one) report a wakeup. Several wakeups before a Reap
    /// may coalesce into one; each is reported by one Reap at most.</summary>
    void Wakeup();

    /// <summary>The file will be used with this engine (registration, where the engine has any).</summary>
    void AssociateWithFile(SafeFileHandle file);

    /// <summary>The file will not be used with this engine again (its operations have ended): drop what the engine
    /// registered for it on first use (<see cref="EngineSettings.RegisterOnFirstUse"/>), so that closing it closes it.</summary>
    void ForgetFile(SafeFileHandle file);

    /// <summary>The buffer will be used with this engine (registration, where the engine has any).</summary>
    void AssociateWithBuffer(Memory<byte> buffer);

    /// <summary>
    /// Teardown: cancels every started operation it can (added to <paramref name="canceled"/>) and waits until the
    /// host owes nothing, adding every operation that finished instead, reaped or not, to <paramref name="completed"/>.
    /// After it returns the kernel touches no operation's memory.
    /// </summary>
    void CancelAllAndDrain(List<IoOperation> canceled, List<IoOperation> completed);
}

/// <summary>An engine's answer to <see cref="IAioEngine.Cancel"/>.</summary>
internal enum EngineCancelResult
{
    /// <summary>Stopped before the kernel ran it (or the kernel confirmed it never ran); never reaped.</summary>
    Canceled,

    /// <summary>Finished; Reap reports it (or already did).</summary>
    AlreadyCompleted,

    /// <summary>Running and not stoppable; Reap will report it.</summary>
    InProgress,

    /// <summary>The engine does not hold the operation (it was cancelled by another caller first).</summary>
    NotHeld,
}
