using System.Runtime.InteropServices;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Platform;

/// <summary>Turning direct (uncached) I/O on for a handle and asking whether it is on. .NET's <c>FileOptions</c> has
/// no way to ask for O_DIRECT on Linux, so FileAio sets it with <c>fcntl(F_SETFL)</c> after opening.</summary>
internal static class DirectIo
{
    /// <summary>Whether <paramref name="file"/> bypasses the page cache (O_DIRECT on Linux).</summary>
    public static bool IsEnabled(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        int flags = Libc.FCntl(file, LinuxConstants.F_GETFL, 0);
        return flags >= 0 && (flags & LinuxConstants.O_DIRECT) != 0;
    }

    /// <summary>Turns O_DIRECT on. Throws <see cref="IOException"/> naming the path when the file system refuses it
    /// (EINVAL: tmpfs before Linux 6.6, some FUSE file systems).</summary>
    public static void Enable(SafeFileHandle file, string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Direct I/O through FileAio is implemented for Linux (O_DIRECT).");
        }
        int flags = Libc.FCntl(file, LinuxConstants.F_GETFL, 0);
        if (flags < 0 || Libc.FCntl(file, LinuxConstants.F_SETFL, flags | LinuxConstants.O_DIRECT) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw Errors.IOExceptionFor(errno, path,
                errno == Errno.EINVAL ? "the file system does not support direct I/O (O_DIRECT)" : "cannot turn on direct I/O");
        }
    }
}
