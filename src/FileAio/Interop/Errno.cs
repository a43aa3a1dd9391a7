namespace FileAio.Interop;

/// <summary>
/// Linux's errno numbers (asm-generic/errno-base.h and errno.h; x86-64 and arm64 share them) for the errors file I/O
/// meets: the constants FileAio tests for, and <see cref="NameOf"/>, the one table of their symbolic names (used in
/// every message that shows an errno, the library's and the CLI's). Numbers 1 to 34 (EPERM to ERANGE) are the same
/// on every Unix; the others are Linux's own.
/// </summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ETXTBSY = 26;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int ESPIPE = 29;
    public const int EROFS = 30;
    public const int EMLINK = 31;
    public const int EPIPE = 32;
    public const int ERANGE = 34;
    public const int EDEADLK = 35;
    public const int ENAMETOOLONG = 36;
    public const int ENOLCK = 37;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int ENODATA = 61;
    public const int ETIME = 62;
    public const int EBADMSG = 74;
    public const int EOVERFLOW = 75;
    public const int EOPNOTSUPP = 95;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int EALREADY = 114;
    public const int EINPROGRESS = 115;
    public const int ESTALE = 116;
    public const int EUCLEAN = 117;
    public const int EREMOTEIO = 121;
    public const int EDQUOT = 122;
    public const int ENOMEDIUM = 123;
    public const int ECANCELED = 125;

    /// <summary>The largest number every Unix gives the same meaning (ERANGE, from Version 7 Unix on).</summary>
    public const int LastCommonUnix = ERANGE;

    /// <summary>"ENOENT" for 2; null for a number not in the table. Linux numbering (aliases such as EWOULDBLOCK and
    /// ENOTSUP share a number with EAGAIN and EOPNOTSUPP and take those names).</summary>
    public static string? NameOf(int errno) => errno switch
    {
        EPERM => nameof(EPERM),
        ENOENT => nameof(ENOENT),
        EINTR => nameof(EINTR),
        EIO => nameof(EIO),
        ENXIO => nameof(ENXIO),
        E2BIG => nameof(E2BIG),
        EBADF => nameof(EBADF),
        EAGAIN => nameof(EAGAIN),
        ENOMEM => nameof(ENOMEM),
        EACCES => nameof(EACCES),
        EFAULT => nameof(EFAULT),
        EBUSY => nameof(EBUSY),
        EEXIST => nameof(EEXIST),
        EXDEV => nameof(EXDEV),
        ENODEV => nameof(ENODEV),
        ENOTDIR => nameof(ENOTDIR),
        EISDIR => nameof(EISDIR),
        EINVAL => nameof(EINVAL),
        ENFILE => nameof(ENFILE),
        EMFILE => nameof(EMFILE),
        ENOTTY => nameof(ENOTTY),
        ETXTBSY => nameof(ETXTBSY),
        EFBIG => nameof(EFBIG),
        ENOSPC => nameof(ENOSPC),
        ESPIPE => nameof(ESPIPE),
        EROFS => nameof(EROFS),
        EMLINK => nameof(EMLINK),
        EPIPE => nameof(EPIPE),
        ERANGE => nameof(ERANGE),
        EDEADLK => nameof(EDEADLK),
        ENAMETOOLONG => nameof(ENAMETOOLONG),
        ENOLCK => nameof(ENOLCK),
        ENOSYS => nameof(ENOSYS),
        ENOTEMPTY => nameof(ENOTEMPTY),
        ELOOP => nameof(ELOOP),
        ENODATA => nameof(ENODATA),
        ETIME => nameof(ETIME),
        EBADMSG => nameof(EBADMSG),
        EOVERFLOW => nameof(EOVERFLOW),
        EOPNOTSUPP => nameof(EOPNOTSUPP),
        ENOTCONN => nameof(ENOTCONN),
        ETIMEDOUT => nameof(ETIMEDOUT),
        EALREADY => nameof(EALREADY),
        EINPROGRESS => nameof(EINPROGRESS),
        ESTALE => nameof(ESTALE),
        EUCLEAN => nameof(EUCLEAN),
        EREMOTEIO => nameof(EREMOTEIO),
        EDQUOT => nameof(EDQUOT),
        ENOMEDIUM => nameof(ENOMEDIUM),
        ECANCELED => nameof(ECANCELED),
        _ => null,
    };
}
