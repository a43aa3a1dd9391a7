namespace FileAio.Interop.PosixAio;

/// <summary>
/// glibc's POSIX AIO constants (aio.h, bits/sigevent-consts.h, fcntl.h, errno.h; the same on x86-64 and arm64 —
/// aio-abi.md §2.4). Several differ from FreeBSD's and macOS's values for the same name (aio-abi.md §5 trap 11):
/// never share one constant between platforms.
/// </summary>
internal static class GlibcAioConstants
{
    // sigev_notify. NONE is 1 here (0 on the BSDs).
    public const int SIGEV_SIGNAL = 0;
    public const int SIGEV_NONE = 1;
    public const int SIGEV_THREAD = 2;

    /// <summary>Signal to one thread; glibc's AIO notification does not handle it (it acts as SIGEV_NONE).</summary>
    public const int SIGEV_THREAD_ID = 4;

    // aio_lio_opcode.
    public const int LIO_READ = 0;
    public const int LIO_WRITE = 1;
    public const int LIO_NOP = 2;

    // lio_listio mode; any other value fails with EINVAL.
    public const int LIO_WAIT = 0;
    public const int LIO_NOWAIT = 1;

    // aio_cancel results.
    public const int AIO_CANCELED = 0;
    public const int AIO_NOTCANCELED = 1;
    public const int AIO_ALLDONE = 2;

    /// <summary>Largest <c>aio_reqprio</c> (bits/local_lim.h); a larger or negative one fails the request with EINVAL.</summary>
    public const int AIO_PRIO_DELTA_MAX = 20;

    /// <summary><c>aio_fsync</c> op for an <c>fsync</c>; the same value as the open flag (<c>__O_SYNC | O_DSYNC</c>).</summary>
    public const int O_SYNC = 0x101000;

    /// <summary><c>aio_fsync</c> op for an <c>fdatasync</c>. Any op other than O_SYNC and O_DSYNC fails with EINVAL.</summary>
    public const int O_DSYNC = 0x1000;

    // errno values the AIO calls report, Linux numbering (the same as FileAio.Interop.Errno's).
    /// <summary>What <c>aio_error</c> returns while a request is queued or running.</summary>
    public const int EINPROGRESS = 115;

    /// <summary>What <c>aio_error</c> returns for a request <c>aio_cancel</c> took off the queue.</summary>
    public const int ECANCELED = 125;

    /// <summary>Request pool exhausted, or <c>aio_suspend</c> timed out.</summary>
    public const int EAGAIN = 11;
}
