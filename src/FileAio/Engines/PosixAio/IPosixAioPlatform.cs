namespace FileAio.Engines.PosixAio;

/// <summary>A request the platform saw finish: its tag (slot and generation) and its result (bytes, or a negated
/// errno in the platform's numbering).</summary>
internal readonly record struct PosixAioFinished(ulong Tag, long Result);

/// <summary>What <c>aio_cancel</c> answered, in words every platform shares (the numbers differ: aio-abi.md §5 trap 11).</summary>
internal enum PosixAioCancelAnswer
{
    /// <summary>AIO_CANCELED: taken off the queue before it ran; its buffer was never touched. It still finishes
    /// (with ECANCELED) and is collected once, like any other request.</summary>
    Canceled,

    /// <summary>AIO_NOTCANCELED: running; it finishes on its own.</summary>
    NotCanceled,

    /// <summary>AIO_ALLDONE: finished already; not yet collected, or being collected.</summary>
    AllDone,
}

/// <summary>
/// The per-platform half of the POSIX AIO engine: one <c>aiocb</c> per slot in native memory (fixed address while the C
/// library or the kernel holds it), the calls on them, and how the reaper learns of completions and sleeps. glibc and
/// macOS scan <c>aio_error</c> and sleep in <c>aio_suspend</c>; FreeBSD has each request post a kevent to the engine's
/// kqueue. The engine above (<see cref="PosixAioEngine"/>) is written once over this interface.
/// </summary>
/// <remarks>
/// Threading: <see cref="Prepare"/>, <see cref="SubmitList"/>, <see cref="SubmitOne"/>, <see cref="TakeBack"/> and
/// <see cref="Arm"/> come from the submitter (one at a time); <see cref="Collect"/> and <see cref="Sleep"/> from the
/// reaper (one at a time; Collect under the engine's reap lock, which a canceller may take too); <see cref="Cancel"/> from
/// a canceller holding the slot; <see cref="Kick"/> from any thread. A slot's block is written only while no library
/// holds it.
/// </remarks>
internal interface IPosixAioPlatform : IDisposable
{
    /// <summary>"glibc", "FreeBSD", "macOS": for messages.</summary>
    string Name { get; }

    /// <summary>Most entries one <c>lio_listio</c> takes.</summary>
    int MaxBatch { get; }

    /// <summary>ECANCELED in this platform's numbering.</summary>
    int ErrnoCanceled { get; }

    /// <summary>Whether a refusal is only "not now" (EAGAIN, ENOMEM): the caller may reap and submit again.</summary>
    bool IsTransient(int errno);

    /// <summary>Fills slot <paramref name="slot"/>'s block (every field, zeroed first) for a read, write or flush
    /// bound under <paramref name="tag"/>.</summary>
    void Prepare(int slot, IoOperation operation, ulong tag);

    /// <summary><c>lio_listio(LIO_NOWAIT)</c> of the listed slots' blocks (reads and writes only). Afterwards
    /// <paramref name="errors"/>[i] is 0 for every entry the library queued and the errno of every one it did not.
    /// Nothing is armed yet: see <see cref="Arm"/>.</summary>
    void SubmitList(ReadOnlySpan<int> slots, Span<int> errors);

    /// <summary>Queues one prepared block alone (<c>aio_read</c>, <c>aio_write</c>, or <c>aio_fsync</c> for a flush,
    /// which never goes through <c>lio_listio</c>). 0, or the errno. Not armed yet.</summary>
    int SubmitOne(int slot, OperationKind kind, bool dataOnly);

    /// <summary>Takes a queued, not yet armed block back (its batch is being cut before it): true when
    /// <c>aio_cancel</c> removed it and its completion was consumed here, so the library no longer holds it.</summary>
    bool TakeBack(int slot, int fd);

    /// <summary>The block of <paramref name="slot"/> is queued and accepted: from now on <see cref="Collect"/> and
    /// <see cref="Sleep"/> look at it.</summary>
    void Arm(int slot);

    /// <summary><c>aio_cancel</c> of an armed slot's request.</summary>
    PosixAioCancelAnswer Cancel(int slot, int fd);

    /// <summary>Collects finished armed requests (as many as fit): <c>aio_error</c> then <c>aio_return</c>, exactly
    /// once each; the slot is disarmed. Caller holds the engine's reap lock.</summary>
    int Collect(Span<PosixAioFinished> into);

    /// <summary>Starts a sleep: from here on a <see cref="Kick"/> ends the coming <see cref="Sleep"/> (the caller
    /// checks its flags after this call and before sleeping).</summary>
    void BeginSleep();

    /// <summary>Sleeps until an armed request may have finished, a <see cref="Kick"/> since <see cref="BeginSleep"/>,
    /// a signal, or the deadline. Spurious returns are allowed. <paramref name="wanted"/> is how many more completions
    /// the caller waits for: glibc may sleep until about that many have finished (a hint; the others ignore it).</summary>
    void Sleep(Deadline deadline, int wanted);

    /// <summary>Ends what <see cref="BeginSleep"/> started.</summary>
    void EndSleep();

    /// <summary>Ends the reaper's sleep (a wakeup, or completions handed over outside the library). Any thread.</summary>
    void Kick();
}
