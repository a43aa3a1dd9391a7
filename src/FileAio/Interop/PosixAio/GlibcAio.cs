using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace FileAio.Interop.PosixAio;

/// <summary>
/// glibc's POSIX AIO entry points. Declarations only: no policy lives here.
/// <para>Library: <c>librt.so.1</c>. From glibc 2.34 the functions live in libc.so.6 and librt.so.1 is a stub whose
/// lookups resolve into libc; before 2.34 they live in librt. Loading librt.so.1 therefore works on both
/// (aio-abi.md §2.1). On LP64 the <c>*64</c> names are the same functions; the plain names are declared.</para>
/// <para>glibc implements these in user space: a pool of at most 20 helper threads doing blocking
/// <c>pread</c>/<c>pwrite</c>/<c>fsync</c>, with requests on one descriptor number run one after another (§2.5).
/// Every call sets the last P/Invoke error; read errno with <see cref="Marshal.GetLastPInvokeError"/> after a -1.
/// The functions share the BSDs' names but not their constants or layouts: call these only on Linux with glibc
/// (<see cref="OperatingSystem.IsLinux"/>), with <see cref="GlibcAiocb"/> blocks in native memory.</para>
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class GlibcAio
{
    private const string LibraryName = "librt.so.1";

    /// <summary><c>aio_read</c>: queues a read of <c>NBytes</c> at <c>Offset</c>. 0, or -1 and errno (EAGAIN: pool
    /// full; EINVAL: bad reqprio or sigevent). A bad descriptor is not checked here: the request completes with
    /// EBADF.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_read", SetLastError = true)]
    internal static partial int Read(GlibcAiocb* aiocb);

    /// <summary><c>aio_write</c>: as <see cref="Read"/>, for a write.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_write", SetLastError = true)]
    internal static partial int Write(GlibcAiocb* aiocb);

    /// <summary><c>aio_fsync</c>: queues an <c>fsync</c> (<paramref name="op"/> =
    /// <see cref="GlibcAioConstants.O_SYNC"/>) or <c>fdatasync</c> (<see cref="GlibcAioConstants.O_DSYNC"/>) of
    /// <c>Fildes</c> behind the requests already queued on that descriptor. Any other op: -1 EINVAL; a closed
    /// descriptor: -1 EBADF.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_fsync", SetLastError = true)]
    internal static partial int FSync(int op, GlibcAiocb* aiocb);

    /// <summary><c>lio_listio</c>: queues every entry of <paramref name="list"/> (null and LIO_NOP entries are
    /// skipped). With LIO_NOWAIT it returns once all are queued; -1 carries the errno of the last entry that failed
    /// to queue while the others stay queued, so inspect every entry (aio-abi.md §5 trap 15). <paramref name="sig"/>
    /// (may be null) is a list notification sent in addition to each entry's own.</summary>
    [LibraryImport(LibraryName, EntryPoint = "lio_listio", SetLastError = true)]
    internal static partial int ListIo(int mode, GlibcAiocb** list, int count, GlibcSigevent* sig);

    /// <summary><c>aio_error</c>: EINPROGRESS while queued or running, then the request's errno (0 = success).
    /// It has no state check: a zeroed block that was never submitted reports 0.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_error", SetLastError = true)]
    internal static partial int Error(GlibcAiocb* aiocb);

    /// <summary><c>aio_return</c>: the byte count (or -1) of a finished request. glibc returns 0 while the request
    /// is pending and allows any number of calls; it frees nothing.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_return", SetLastError = true)]
    internal static partial nint Return(GlibcAiocb* aiocb);

    /// <summary><c>aio_cancel</c>: <see cref="GlibcAioConstants.AIO_CANCELED"/> (taken off the queue; it still
    /// notifies, with ECANCELED), AIO_NOTCANCELED (running) or AIO_ALLDONE (already finished); -1 EBADF for a bad
    /// descriptor, -1 EINVAL if <paramref name="aiocb"/>'s descriptor is not <paramref name="fd"/>. A null block
    /// cancels every queued request of the descriptor.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_cancel", SetLastError = true)]
    internal static partial int Cancel(int fd, GlibcAiocb* aiocb);

    /// <summary><c>aio_suspend</c>: waits until one listed request has finished (0), the relative
    /// <paramref name="timeout"/> passes (-1 EAGAIN; null waits for ever) or a signal arrives (-1 EINTR). Null
    /// entries are allowed.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_suspend", SetLastError = true)]
    internal static partial int Suspend(GlibcAiocb** list, int count, Timespec* timeout);

    /// <summary><c>aio_init</c>: tunes the helper pool; only effective before the first request of the process.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_init")]
    internal static partial void Init(GlibcAioInit* init);
}
