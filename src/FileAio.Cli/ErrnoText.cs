namespace FileAio.Cli;

/// <summary>Errno numbers in the CLI: the few it tests for by name, which read errors mean bad data, and the errno
/// behind an exception. Names and texts come from the library (<see cref="AioErrno"/>), which holds the one table.</summary>
internal static class ErrnoText
{
    // Linux's numbers for the errors the CLI tests for; a unit test checks that the library names each one so.
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int ENAMETOOLONG = 36;
    public const int ENODATA = 61;
    public const int EBADMSG = 74;
    public const int EUCLEAN = 117;
    public const int EDQUOT = 122;

    /// <summary>
    /// Whether a read failed because this data cannot be read, not because of how it was asked: EIO (a bad sector, a
    /// device error), EBADMSG and EUCLEAN (a file system's checksum does not match: btrfs, XFS, ext4 metadata) and
    /// ENODATA (a medium error on some drivers). <c>verify</c> reports such a block as bad and goes on.
    /// </summary>
    public static bool IsUnreadableData(int errno) => errno is EIO or ENODATA or EBADMSG or EUCLEAN;

    /// <summary>"No such file or directory (ENOENT, errno 2)", as the library words errnos in its own messages.</summary>
    public static string Describe(int errno) => AioErrno.Describe(errno);

    /// <summary>An exception's errno described (<see cref="Describe(int)"/>), or its message when it carries none.</summary>
    public static string Describe(Exception exception)
    {
        int errno = FromException(exception);
        return errno != 0 ? Describe(errno) : exception.Message;
    }

    /// <summary>"ENOENT", or "errno 1234" for a number the library has no name for.</summary>
    public static string Name(int errno) => AioErrno.GetName(errno) ?? $"errno {errno}";

    /// <summary>The errno behind an exception from .NET or FileAio, or 0 when there is none. On Unix both put the errno
    /// in <see cref="Exception.HResult"/> of a plain <see cref="IOException"/>; .NET turns a few errnos into their own
    /// exception types, which are mapped back here.</summary>
    public static int FromException(Exception exception) => exception switch
    {
        IoFailureException failure => failure.Errno,
        FileNotFoundException or DirectoryNotFoundException => ENOENT,
        PathTooLongException => ENAMETOOLONG,
        UnauthorizedAccessException => EACCES, // .NET also folds EPERM and EBADF into this type
        IOException { HResult: > 0 and < 4096 } io => io.HResult,
        _ => 0,
    };
}
