using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace FileAio.Interop.PosixAio;

/// <summary>
/// FreeBSD's POSIX AIO system calls and kqueue. Declarations only: no policy lives here.
/// <para>Library: <c>libc.so.7</c>, whose AIO functions are plain system-call stubs (aio-abi.md §3.1); librt's
/// wrappers only add SIGEV_THREAD, which FileAio does not use. The AIO work happens in the kernel (AIO daemons or
/// the disk driver); completions are announced per aiocb with SIGEV_KEVENT on a kqueue.</para>
/// <para>Rules the declarations cannot show (§3.4, §5): call <see cref="Return"/> exactly once per finished job —
/// it frees the kernel's job, and until then the job holds a per-process slot; a cancelled job still posts its
/// event and still needs <see cref="Return"/>. Every call sets the last P/Invoke error; errno uses FreeBSD's
/// numbering (<see cref="FreeBsdAioConstants"/>). Call these only when <see cref="OperatingSystem.IsFreeBSD"/>:
/// Linux and macOS have functions of the same names with other layouts.</para>
/// </summary>
[SupportedOSPlatform("freebsd")]
internal static unsafe partial class FreeBsdAio
{
    private const string LibraryName = "libc.so.7";

    /// <summary><c>aio_read</c>: queues a read; 0, or -1 and errno (EAGAIN: a queue limit; EINVAL; EBADF;
    /// EOPNOTSUPP: a file AIO does not serve unless vfs.aio.enable_unsafe=1).</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_read", SetLastError = true)]
    internal static partial int Read(FreeBsdAiocb* aiocb);

    [LibraryImport(LibraryName, EntryPoint = "aio_write", SetLastError = true)]
    internal static partial int Write(FreeBsdAiocb* aiocb);

    /// <summary><c>aio_readv</c> (FreeBSD 13.0+): <c>Iov</c>/<c>IovCnt</c> describe the buffers.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_readv", SetLastError = true)]
    internal static partial int ReadV(FreeBsdAiocb* aiocb);

    /// <summary><c>aio_writev</c> (FreeBSD 13.0+).</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_writev", SetLastError = true)]
    internal static partial int WriteV(FreeBsdAiocb* aiocb);

    /// <summary><c>aio_fsync</c>: <see cref="FreeBsdAioConstants.O_SYNC"/>, or O_DSYNC from FreeBSD 13; it waits
    /// for the earlier jobs of the same file. It cannot be part of a <c>lio_listio</c> list.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_fsync", SetLastError = true)]
    internal static partial int FSync(int op, FreeBsdAiocb* aiocb);

    /// <summary><c>lio_listio</c>: tries every entry, each with its own sigevent; -1 EIO if any failed with
    /// another error than EAGAIN, else -1 EAGAIN if any hit a limit — <c>aio_error</c> of each entry tells which
    /// (aio-abi.md §3.4). More entries than vfs.aio.max_aio_queue_per_proc: EINVAL.</summary>
    [LibraryImport(LibraryName, EntryPoint = "lio_listio", SetLastError = true)]
    internal static partial int ListIo(int mode, FreeBsdAiocb** list, int count, FreeBsdSigevent* sig);

    /// <summary><c>aio_error</c>: EINPROGRESS, then the job's errno (0 = success); -1 EINVAL for a block the
    /// kernel does not know (never submitted, or already returned).</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_error", SetLastError = true)]
    internal static partial int Error(FreeBsdAiocb* aiocb);

    /// <summary><c>aio_return</c>: the finished job's result, freeing the job. A second call, or one on a job
    /// still running: -1 EINVAL.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_return", SetLastError = true)]
    internal static partial nint Return(FreeBsdAiocb* aiocb);

    /// <summary><c>aio_cancel</c>: <see cref="FreeBsdAioConstants.AIO_CANCELED"/>, AIO_NOTCANCELED (running, or any
    /// job on a disk device) or AIO_ALLDONE.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_cancel", SetLastError = true)]
    internal static partial int Cancel(int fd, FreeBsdAiocb* aiocb);

    /// <summary><c>aio_suspend</c>: 0 once one listed job has finished; -1 EAGAIN on timeout, EINTR on a signal.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_suspend", SetLastError = true)]
    internal static partial int Suspend(FreeBsdAiocb** list, int count, Timespec* timeout);

    /// <summary><c>kqueue</c>: a new kqueue descriptor, or -1.</summary>
    [LibraryImport(LibraryName, EntryPoint = "kqueue", SetLastError = true)]
    internal static partial int KQueue();

    /// <summary><c>kevent</c>: applies <paramref name="changeCount"/> changes, then waits up to the relative
    /// <paramref name="timeout"/> (null: for ever) for events; returns their number, 0 on timeout, -1 EINTR on a
    /// signal. The symbol is the FreeBSD 12+ version, with the 64-byte <see cref="FreeBsdKevent"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "kevent", SetLastError = true)]
    internal static partial int KEvent(
        int kq, FreeBsdKevent* changes, int changeCount, FreeBsdKevent* events, int eventCount, Timespec* timeout);
}
