namespace FileAio;

/// <summary>How <see cref="AioContext.Create"/> sets a context up.</summary>
public sealed class AioContextOptions
{
    /// <summary>The engine to use. <see cref="AioEngineKind.Auto"/> (the default) picks the best one that works
    /// here; naming an engine that cannot run here makes <see cref="AioContext.Create"/> throw with the reason. One
    /// engine serves every file of the context: for files on FUSE prefer <see cref="AioEngineKind.ThreadPool"/>, since
    /// io_uring misreports a FUSE read that the file system fails partway; <see cref="AioFile.RecommendedEngine"/>
    /// says which engine a file needs (docs/engines.md, IoUring, "FUSE").</summary>
    public AioEngineKind Engine { get; init; } = AioEngineKind.Auto;

    /// <summary>When set, <see cref="AioContext.Wait"/> blocks even when nothing is outstanding, until a request
    /// submitted meanwhile completes or <see cref="AioContext.Wakeup"/> is called. When clear (the default), such a
    /// Wait returns <see cref="AioWaitReason.NoRequests"/> at once (IPRT's <c>RTFILEAIOCTX_FLAGS_WAIT_WITHOUT_PENDING_REQUESTS</c>).</summary>
    public bool WaitWithoutPendingRequests { get; init; }

    /// <summary>
    /// A promise that the thread calling <see cref="AioContext.Create"/> makes every later call on the context —
    /// Submit, Wait, Cancel, Associate*, TryClose and Dispose — except <see cref="AioContext.Wakeup"/>, which any thread
    /// may still call. Calls from another thread then throw <see cref="InvalidOperationException"/>. In return io_uring
    /// sets the ring up with SINGLE_ISSUER and DEFER_TASKRUN (Linux 6.0/6.1): completion work runs when that thread
    /// waits instead of interrupting it for every completion, which is markedly faster with O_DIRECT on virtual machines.
    /// Other engines keep the rule and gain nothing.
    /// </summary>
    public bool SingleThreaded { get; init; }
}
