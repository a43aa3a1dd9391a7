using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Platform;

/// <summary>
/// Files on FUSE, which io_uring reads wrongly when the file system fails part of a read (Linux 6.18, seen here).
/// </summary>
/// <remarks>
/// <para>The kernel splits a large read of a FUSE file in direct_io mode (every read goes to the file system's
/// process) into several FUSE requests. When a later one fails, an io_uring read retries the rest at the read's
/// <em>starting</em> offset, fills the rest of the buffer with the wrong bytes, and reports the whole length as read.
/// A plain <c>pread</c> reports the short count; writes come back short under io_uring too, as they should. Nothing on
/// the request turns the retry off (IOSQE_ASYNC does not), so <see cref="AioEngineKind.Auto"/> serves files on FUSE
/// with the thread-pool engine, whose positional reads report what really happened. docs/engines.md (IoUring, "FUSE")
/// has the reproduction.</para>
/// </remarks>
internal static unsafe class FuseFiles
{
    /// <summary>Whether <paramref name="file"/> may live on a FUSE file system: it does, or the kernel could not say.
    /// On FUSE, <c>fstatfs</c> is answered by the file system's own process, which may fail it exactly when it also
    /// fails reads (a network file system whose remote is down); so an error counts as FUSE. False off Linux.</summary>
    public static bool IsOnFuse(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        byte* buffer = stackalloc byte[LinuxConstants.StatFsSize];
        // f_type is the first field, a word (__fsword_t): 8 bytes on 64-bit Linux, 4 on 32-bit (little-endian ABIs).
        return Libc.FStatFs(file, buffer) != 0 || *(nint*)buffer == (nint)LinuxConstants.FUSE_SUPER_MAGIC;
    }
}
