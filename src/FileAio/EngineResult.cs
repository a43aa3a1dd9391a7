namespace FileAio;

/// <summary>
/// The raw outcome an engine stores in <see cref="AioRequest.EngineResult"/> before reporting a completion:
/// a byte count (≥ 0), a negated errno (&lt; 0), or <see cref="Canceled"/>.
/// </summary>
internal static class EngineResult
{
    /// <summary>The operation was cancelled by the host (for example while a context was being disposed).</summary>
    public const long Canceled = long.MinValue;

    public static long FromErrno(int errno) => -(long)errno;
}
