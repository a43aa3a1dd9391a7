namespace FileAio.Engines;

/// <summary>How an engine is set up: who drives it, and (for tests) how small its queues are.</summary>
internal readonly record struct EngineSettings
{
    /// <summary>One thread drives the engine: it creates it and makes every call but
    /// <see cref="IAioEngine.Wakeup"/>. io_uring then sets the ring up with SINGLE_ISSUER and DEFER_TASKRUN (Linux
    /// 6.0/6.1) and enters it through a registered ring fd. A context created SingleThreaded and every engine thread
    /// of an async host are owned; a plain context is shared.</summary>
    public bool Owned { get; init; }

    /// <summary>Owned engines only: <see cref="IAioEngine.Start"/> queues work for the kernel and the next
    /// <see cref="IAioEngine.Reap"/> submits it in the same system call that reaps (an engine thread's loop: one
    /// <c>io_uring_enter</c> per turn). Without it, Start submits before it returns, as a context's Submit must.</summary>
    public bool DeferSubmission { get; init; }

    /// <summary>Owned engines only: files and aligned buffers are registered with the engine the first time an operation
    /// uses them (io_uring's registered files and buffers), and a file stays registered until
    /// <see cref="IAioEngine.ForgetFile"/>. For the async host's engine threads, whose layer forgets every file it closes;
    /// a context registers only what its caller associates.</summary>
    public bool RegisterOnFirstUse { get; init; }

    /// <summary>Submission-queue entries (io_uring); 0 for the engine's own choice. Tests make it tiny (4) so that
    /// full-queue paths run.</summary>
    public uint SubmissionQueueEntries { get; init; }

    /// <summary>Completion-queue entries (io_uring); 0 for the engine's own choice, which never overflows. Tests make it
    /// smaller than the operations in flight to drive the kernel's overflow path.</summary>
    public uint CompletionQueueEntries { get; init; }

    /// <summary>io_uring: cancel through IORING_OP_ASYNC_CANCEL as on kernels before 6.0, even where
    /// IORING_REGISTER_SYNC_CANCEL works (tests of the older path).</summary>
    public bool WithoutSyncCancel { get; init; }

    /// <summary>Linux AIO: files not open with O_DIRECT go to the engine's side path (worker threads) instead of
    /// <c>io_submit</c>, which would do their whole transfer before returning. Set when Auto picks Linux AIO.</summary>
    public bool BufferedOnSidePath { get; init; }
}
