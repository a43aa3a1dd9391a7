using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace FileAio.Interop.PosixAio;

/// <summary>
/// macOS's POSIX AIO system calls. Declarations only: no policy lives here.
/// <para>Library: "libc", which the runtime resolves to <c>/usr/lib/libc.dylib</c>, an alias of libSystem (the
/// system-call stubs live in libsystem_kernel, re-exported by libSystem). The AIO work runs on the kernel's
/// AIO threads (4 by default); completions are seen through <see cref="Suspend"/> or by polling
/// <see cref="Error"/> — there is no kqueue AIO and no SIGEV_THREAD (aio-abi.md §4).</para>
/// <para>Rules the declarations cannot show: call <see cref="Return"/> exactly once per finished job (a finished job
/// holds one of the process's 16 slots, kern.aioprocmax, until then); every submit-time error is EAGAIN; a list
/// holds at most 16 entries. Every call sets the last P/Invoke error; errno uses macOS's numbering
/// (<see cref="MacAioConstants"/>). Call these only when <see cref="OperatingSystem.IsMacOS"/>.</para>
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe partial class MacAio
{
    private const string LibraryName = "libc";

    [LibraryImport(LibraryName, EntryPoint = "aio_read", SetLastError = true)]
    internal static partial int Read(MacAiocb* aiocb);

    [LibraryImport(LibraryName, EntryPoint = "aio_write", SetLastError = true)]
    internal static partial int Write(MacAiocb* aiocb);

    /// <summary><c>aio_fsync</c>: <see cref="MacAioConstants.O_SYNC"/> (or 0) or O_DSYNC; needs a descriptor
    /// opened for writing.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_fsync", SetLastError = true)]
    internal static partial int FSync(int op, MacAiocb* aiocb);

    /// <summary><c>lio_listio</c>: 1..16 entries; if any entry fails validation nothing is submitted (-1 EAGAIN).
    /// With LIO_NOWAIT every entry's sigevent is overwritten with <paramref name="sig"/> (zeros if null).</summary>
    [LibraryImport(LibraryName, EntryPoint = "lio_listio", SetLastError = true)]
    internal static partial int ListIo(int mode, MacAiocb** list, int count, MacSigevent* sig);

    /// <summary><c>aio_error</c>: EINPROGRESS, then the job's errno; -1 EINVAL for a block the kernel does not know.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_error", SetLastError = true)]
    internal static partial int Error(MacAiocb* aiocb);

    /// <summary><c>aio_return</c>: the finished job's result, freeing its slot; -1 EINPROGRESS while running,
    /// -1 EINVAL for an unknown block.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_return", SetLastError = true)]
    internal static partial nint Return(MacAiocb* aiocb);

    /// <summary><c>aio_cancel</c>: <see cref="MacAioConstants.AIO_CANCELED"/>, AIO_NOTCANCELED or AIO_ALLDONE;
    /// -1 EBADF if the block's descriptor is not <paramref name="fd"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_cancel", SetLastError = true)]
    internal static partial int Cancel(int fd, MacAiocb* aiocb);

    /// <summary><c>aio_suspend</c>: at most kern.aioprocmax (16) entries; 0, or -1 EAGAIN on timeout, EINTR on a
    /// signal.</summary>
    [LibraryImport(LibraryName, EntryPoint = "aio_suspend", SetLastError = true)]
    internal static partial int Suspend(MacAiocb** list, int count, Timespec* timeout);
}
