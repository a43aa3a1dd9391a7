namespace FileAio;

/// <summary>What one <see cref="AioContext.Wait"/> call collected and why it returned.</summary>
/// <param name="Count">How many entries at the start of the caller's span now hold completed requests.</param>
/// <param name="Reason">Why the call returned.</param>
public readonly record struct AioWaitResult(int Count, AioWaitReason Reason);
