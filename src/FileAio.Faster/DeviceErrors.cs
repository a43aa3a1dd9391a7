namespace FileAio.Faster;

/// <summary>The error code a FASTER completion callback gets for an I/O that failed: the errno where there is one
/// (FASTER treats any non-zero code as a failure of that page and logs the number).</summary>
internal static class DeviceErrors
{
    public const uint EIO = 5;
    public const uint EBADF = 9;
    public const uint EINVAL = 22;

    /// <summary>FASTER's own devices report a failure that carries no OS code as <see cref="uint.MaxValue"/>.</summary>
    public const uint NotAnOsError = uint.MaxValue;

    public static uint Of(Exception exception) => exception switch
    {
        // FileAio's IOExceptions carry the errno as HResult, and so do .NET's own on Unix (opening a segment file).
        IOException io when io.HResult is > 0 and < 4096 => (uint)io.HResult,
        // Windows-style HRESULTs (FileNotFoundException and kin): the low word is the code, as FASTER's devices read it.
        IOException io when (io.HResult & 0xFFFF) != 0 => (uint)(io.HResult & 0xFFFF),
        UnauthorizedAccessException => 13, // EACCES
        // The segment's file was closed under the I/O: removed by a truncation, or the device reset or disposed. Closed
        // before the I/O reached FileAio, it is refused (ObjectDisposedException); closed while FileAio had it, it is
        // cancelled (OperationCanceledException: the device passes no token, so nothing else cancels). One code for both.
        ObjectDisposedException or OperationCanceledException => EBADF,
        // A transfer FileAio refused before the kernel saw it (a direct-I/O alignment rule): what the kernel would say.
        ArgumentException => EINVAL,
        _ => NotAnOsError,
    };
}
