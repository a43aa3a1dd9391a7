namespace FileAio;

/// <summary>What an engine can do on this machine (IPRT's <c>RTFileAioGetLimits</c>).</summary>
/// <param name="Engine">The engine described; never <see cref="AioEngineKind.Auto"/> (Auto is resolved first).</param>
/// <param name="IsSupported">Whether a context with this engine can be created here.</param>
/// <param name="MaxOutstanding">The most requests one context of this engine may have outstanding; a capacity asked
/// above it (including <see cref="AioContext.UnlimitedCapacity"/>) is lowered to it. 0 when not supported.</param>
/// <param name="UnsupportedReason">Why the engine cannot run here (for example EPERM from a seccomp filter), or
/// <see langword="null"/> when it can.</param>
public readonly record struct AioLimits(AioEngineKind Engine, bool IsSupported, int MaxOutstanding, string? UnsupportedReason);
