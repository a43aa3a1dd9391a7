using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Platform;

/// <summary>
/// Files on FUSE, which io_uring reads wrongly when the file system fails part of a read (Linux 6.18, seen here).
/// </summary>
/// <remarks>
/// <para>The kernel splits a large read of a FUSE file (one in direct_io mode: every read goes to the file system
/// process) into several FUSE requests. When a later one fails or comes back short, an io_uring read retries the rest
/// at the read's <em>starting</em> offset, fills the rest of the buffer with the wrong bytes, and reports the whole
/// length as read. A plain <c>pread</c> reports the short count. Nothing on the request can turn the retry off
/// (IOSQE_ASYNC does not), so <see cref="AioEngineKind.Auto"/> serves files on FUSE with the thread-pool engine,
/// whose positional reads report what really happened. docs/engines.md, "FUSE", has the reproduction.</para>
/// </remarks>
internal static unsafe class FuseFiles
{
    /// <summary>Whether <paramref name="file"/> lives on a FUSE file system (false off Linux, and when the kernel does
    /// not say).</summary>
    public static bool IsOnFuse(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        byte* buffer = stackalloc byte[LinuxConstants.StatFsSize];
        return Libc.FStatFs(file, buffer) == 0 && *(long*)buffer == LinuxConstants.FUSE_SUPER_MAGIC;
    }
}
