using System.Runtime.InteropServices;

namespace FileAio.Cli;

/// <summary>Errno numbers as people read them: the symbolic name, the C library's text and the number.</summary>
internal static class ErrnoText
{
    // Linux's numbers (the same on x64 and arm64) for the errors a file tool meets.
    private static readonly Dictionary<int, string> s_names = new()
    {
        [1] = "EPERM",
        [2] = "ENOENT",
        [4] = "EINTR",
        [5] = "EIO",
        [6] = "ENXIO",
        [9] = "EBADF",
        [11] = "EAGAIN",
        [12] = "ENOMEM",
        [13] = "EACCES",
        [14] = "EFAULT",
        [16] = "EBUSY",
        [17] = "EEXIST",
        [18] = "EXDEV",
        [19] = "ENODEV",
        [20] = "ENOTDIR",
        [21] = "EISDIR",
        [22] = "EINVAL",
        [23] = "ENFILE",
        [24] = "EMFILE",
        [26] = "ETXTBSY",
        [27] = "EFBIG",
        [28] = "ENOSPC",
        [29] = "ESPIPE",
        [30] = "EROFS",
        [36] = "ENAMETOOLONG",
        [38] = "ENOSYS",
        [39] = "ENOTEMPTY",
        [40] = "ELOOP",
        [61] = "ENODATA",
        [74] = "EBADMSG",
        [95] = "EOPNOTSUPP",
        [110] = "ETIMEDOUT",
        [116] = "ESTALE",
        [117] = "EUCLEAN",
        [122] = "EDQUOT",
        [125] = "ECANCELED",
    };

    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int ENAMETOOLONG = 36;
    public const int ENODATA = 61;
    public const int EBADMSG = 74;
    public const int EUCLEAN = 117;

    /// <summary>
    /// Whether a read failed because this data cannot be read, not because of how it was asked: EIO (a bad sector, a
    /// device error), EBADMSG and EUCLEAN (a file system's checksum does not match: btrfs, XFS, ext4 metadata) and
    /// ENODATA (a medium error on some drivers). <c>verify</c> reports such a block as bad and goes on.
    /// </summary>
    public static bool IsUnreadableData(int errno) => errno is EIO or ENODATA or EBADMSG or EUCLEAN;

    /// <summary>"No such file or directory (ENOENT, errno 2)".</summary>
    public static string Describe(int errno) =>
        $"{Marshal.GetPInvokeErrorMessage(errno)} ({Name(errno)}, errno {errno})";

    /// <summary>"ENOENT", or "errno 1234" for a number not in the table.</summary>
    public static string Name(int errno) => s_names.TryGetValue(errno, out string? name) ? name : $"errno {errno}";

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
