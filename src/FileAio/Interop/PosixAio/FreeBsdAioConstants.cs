namespace FileAio.Interop.PosixAio;

/// <summary>
/// FreeBSD's POSIX AIO and kqueue constants (sys/aio.h, sys/signal.h, sys/event.h, sys/fcntl.h, sys/errno.h;
/// aio-abi.md §3.3). The LIO_* and AIO_* values differ from glibc's for the same names (§5 trap 11).
/// </summary>
internal static class FreeBsdAioConstants
{
    // aio_cancel results.
    public const int AIO_CANCELED = 1;
    public const int AIO_NOTCANCELED = 2;
    public const int AIO_ALLDONE = 3;

    // aio_lio_opcode. WRITE is 1 and READ 2 (glibc: READ 0, WRITE 1).
    public const int LIO_NOP = 0;
    public const int LIO_WRITE = 1;
    public const int LIO_READ = 2;

    // Vectored opcodes (FreeBSD 13+; sys/aio.h shows them only with _WANT_ALL_LIO_OPCODES or in the kernel).
    public const int LIO_VECTORED = 4;
    public const int LIO_WRITEV = LIO_WRITE | LIO_VECTORED;
    public const int LIO_READV = LIO_READ | LIO_VECTORED;

    // lio_listio mode: NOWAIT is 0 here (glibc: WAIT 0).
    public const int LIO_NOWAIT = 0;
    public const int LIO_WAIT = 1;

    /// <summary>The header's constant; the kernel's real limit on a list is the sysctl
    /// vfs.aio.max_aio_queue_per_proc (default 256).</summary>
    public const int AIO_LISTIO_MAX = 16;

    // sigev_notify.
    public const int SIGEV_NONE = 0;
    public const int SIGEV_SIGNAL = 1;
    public const int SIGEV_THREAD = 2;

    /// <summary>Post an EVFILT_AIO event to the kqueue in <c>sigev_notify_kqueue</c>.</summary>
    public const int SIGEV_KEVENT = 3;

    public const int SIGEV_THREAD_ID = 4;

    // kevent filters.
    /// <summary>Completion of one AIO job; ident = the aiocb's address.</summary>
    public const short EVFILT_AIO = -3;

    /// <summary>Completion of a whole <c>lio_listio</c> list; ident = the list array's address.</summary>
    public const short EVFILT_LIO = -10;

    /// <summary>A user-triggered event: how another thread wakes a thread waiting in <c>kevent</c>.</summary>
    public const short EVFILT_USER = -11;

    /// <summary>fflags for EVFILT_USER: trigger the event.</summary>
    public const uint NOTE_TRIGGER = 0x01000000;

    // kevent flags (struct kevent.flags, u_short).
    public const ushort EV_ADD = 0x0001;
    public const ushort EV_DELETE = 0x0002;
    public const ushort EV_ENABLE = 0x0004;
    public const ushort EV_DISABLE = 0x0008;
    public const ushort EV_ONESHOT = 0x0010;
    public const ushort EV_CLEAR = 0x0020;
    public const ushort EV_RECEIPT = 0x0040;
    public const ushort EV_DISPATCH = 0x0080;

    /// <summary>Filter-specific; the kernel sets it on AIO knotes itself (not for callers).</summary>
    public const ushort EV_FLAG1 = 0x2000;

    /// <summary>Returned: <c>data</c> holds an errno.</summary>
    public const ushort EV_ERROR = 0x4000;

    /// <summary>Returned: set on a finished AIO job's event.</summary>
    public const ushort EV_EOF = 0x8000;

    // aio_fsync ops (the open flags of the same names) and O_DIRECT.
    public const int O_SYNC = 0x0080;

    /// <summary>Accepted by <c>aio_fsync</c> since FreeBSD 13 (12.x accepts only O_SYNC).</summary>
    public const int O_DSYNC = 0x01000000;

    public const int O_DIRECT = 0x00010000;

    // errno values, FreeBSD numbering (not Linux's).
    public const int EAGAIN = 35;
    public const int EINPROGRESS = 36;

    /// <summary>The file is not one AIO serves safely (not local, or special) and vfs.aio.enable_unsafe is 0.</summary>
    public const int EOPNOTSUPP = 45;

    public const int ECANCELED = 85;
}
