namespace FileAio.Engines;

/// <summary>
/// The seam between the contract layer (<see cref="AioContext"/>, <see cref="AioRequest"/>) and one host mechanism.
/// </summary>
/// <remarks>
/// <para>Division of labour. The contract layer owns request state, argument validation, capacity, exactly-once
/// accounting and pinning: by the time a request reaches <see cref="Start"/> it is Submitted, pinned and counted.
/// An engine only starts operations, reaps completions, cancels one operation and wakes its waiter.</para>
/// <para>The engine's promise: every request accepted by <see cref="Start"/> ends in exactly one of two ways: it is
/// returned once by <see cref="Reap"/> (or by <see cref="CancelAllAndDrain"/>) with <see cref="AioRequest.EngineResult"/>
/// set, or <see cref="Cancel"/> answers <see cref="EngineCancelResult.Canceled"/> for it once, after which the kernel
/// no longer touches its memory. An engine may use <see cref="AioRequest.EngineState"/> and
/// <see cref="AioRequest.EngineSequence"/> freely while it holds a request.</para>
/// <para>Threading. <see cref="Start"/> is called under the context's submit lock (one at a time); <see cref="Reap"/>
/// by one thread at a time, concurrently with Start, Cancel and Wakeup; <see cref="Cancel"/> and <see cref="Wakeup"/>
/// from any thread. <see cref="CancelAllAndDrain"/> and <see cref="IDisposable.Dispose"/> run alone, after every other
/// call has returned.</para>
/// </remarks>
internal interface IAioEngine : IDisposable
{
    AioEngineKind Kind { get; }

    /// <summary>
    /// Hands <paramref name="requests"/> to the host, in order. Returns how many were accepted. When the host refused
    /// the request right after the accepted ones outright, <paramref name="refusedErrno"/> is its errno (else 0);
    /// requests after that one were not started.
    /// </summary>
    int Start(ReadOnlySpan<AioRequest> requests, out int refusedErrno);

    /// <summary>
    /// Collects finished requests into <paramref name="completed"/> (as many as are ready and fit), blocking until at
    /// least <paramref name="minCompletions"/> are collected, the deadline passes, or a wakeup is consumed.
    /// Interrupted system calls are retried with the time left recomputed. Returns the count collected. An expired
    /// deadline makes it a poll: what is ready, and a pending wakeup, are still taken.
    /// </summary>
    int Reap(int minCompletions, Deadline deadline, Span<AioRequest> completed, out AioWaitReason reason);

    /// <summary>The context was told the file will be used with it (registration, where the engine has any).</summary>
    void AssociateWithFile(Microsoft.Win32.SafeHandles.SafeFileHandle file);

    /// <summary>The context was told the buffer will be used with it (registration, where the engine has any).</summary>
    void AssociateWithBuffer(Memory<byte> buffer);

    /// <summary>Tries to stop one started request. See <see cref="EngineCancelResult"/>.</summary>
    EngineCancelResult Cancel(AioRequest request);

    /// <summary>Makes the current <see cref="Reap"/> (or the next one) return <see cref="AioWaitReason.Interrupted"/>.
    /// Several wakeups before a Reap may coalesce into one.</summary>
    void Wakeup();

    /// <summary>
    /// Teardown: cancels every started request it can (added to <paramref name="canceled"/>) and waits until the host
    /// owes nothing, adding every request that finished instead (reaped or not) to <paramref name="completed"/>.
    /// After it returns the kernel touches no request's memory.
    /// </summary>
    void CancelAllAndDrain(List<AioRequest> canceled, List<AioRequest> completed);
}

/// <summary>An engine's answer to <see cref="IAioEngine.Cancel"/>.</summary>
internal enum EngineCancelResult
{
    /// <summary>Stopped before the kernel ran it (or the kernel confirmed the cancellation); never reported by Reap.</summary>
    Canceled,

    /// <summary>Finished; Reap reports it (or already did).</summary>
    AlreadyCompleted,

    /// <summary>Running and not stoppable; Reap will report it.</summary>
    InProgress,

    /// <summary>The engine does not hold the request (it was cancelled by another caller first).</summary>
    NotHeld,
}
