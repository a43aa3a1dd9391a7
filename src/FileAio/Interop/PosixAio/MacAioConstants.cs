namespace FileAio.Interop.PosixAio;

/// <summary>
/// macOS's POSIX AIO constants (xnu bsd/sys/aio.h, bsd/sys/signal.h, bsd/sys/fcntl.h, bsd/sys/errno.h;
/// aio-abi.md §4). The AIO_* results and the LIO_* modes differ from both glibc's and FreeBSD's (§5 trap 11).
/// </summary>
internal static class MacAioConstants
{
    // aio_cancel results: ALLDONE is the smallest here.
    public const int AIO_ALLDONE = 1;
    public const int AIO_CANCELED = 2;
    public const int AIO_NOTCANCELED = 4;

    // aio_lio_opcode.
    public const int LIO_NOP = 0;
    public const int LIO_READ = 1;
    public const int LIO_WRITE = 2;

    // lio_listio mode.
    public const int LIO_NOWAIT = 1;
    public const int LIO_WAIT = 2;

    /// <summary>Most entries in one <c>lio_listio</c>: the kernel checks this value (rust-lang/libc's 32 is wrong).</summary>
    public const int AIO_LISTIO_MAX = 16;

    // sigev_notify. For AIO the kernel accepts NONE and SIGNAL only (SIGEV_THREAD is declared, not implemented).
    public const int SIGEV_NONE = 0;
    public const int SIGEV_SIGNAL = 1;
    public const int SIGEV_THREAD = 3;

    // aio_fsync ops; the kernel also takes 0 as O_SYNC, for binary compatibility (xnu kern_aio.c).
    public const int O_SYNC = 0x80;
    public const int O_DSYNC = 0x400000;

    // errno values, macOS numbering. Every submit-time validation failure is reported as EAGAIN, like a full queue.
    public const int EAGAIN = 35;
    public const int EINPROGRESS = 36;
    public const int ECANCELED = 89;
}
