namespace FileAio.Engines;

/// <summary>
/// The raw outcome an engine stores in <see cref="IoOperation.Result"/> before it gives an operation back: a byte
/// count (≥ 0), a negated errno (&lt; 0), or <see cref="Canceled"/>.
/// </summary>
internal static class OperationResult
{
    /// <summary>The operation was cancelled before the kernel ran it; its buffers were not touched.</summary>
    public const long Canceled = long.MinValue;

    public static long FromErrno(int errno) => -(long)errno;
}
