namespace FileAio;

/// <summary>How <see cref="AioContext.Create"/> sets a context up.</summary>
public sealed class AioContextOptions
{
    /// <summary>The engine to use. <see cref="AioEngineKind.Auto"/> (the default) picks the best one that works
    /// here; naming an engine that cannot run here makes <see cref="AioContext.Create"/> throw with the reason.</summary>
    public AioEngineKind Engine { get; init; } = AioEngineKind.Auto;

    /// <summary>When set, <see cref="AioContext.Wait"/> blocks even when nothing is outstanding, until a request
    /// submitted meanwhile completes or <see cref="AioContext.Wakeup"/> is called. When clear (the default), such a
    /// Wait returns <see cref="AioWaitReason.NoRequests"/> at once (IPRT's <c>RTFILEAIOCTX_FLAGS_WAIT_WITHOUT_PENDING_REQUESTS</c>).</summary>
    public bool WaitWithoutPendingRequests { get; init; }
}
