using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Platform;

/// <summary>File-system calls .NET does not offer: make a rename durable, drop a file's cached pages, tell a regular
/// file from a device, resolve a path. Each is Linux-only and does nothing elsewhere.</summary>
internal static unsafe class FileSystemCalls
{
    /// <summary>fsyncs the directory <paramref name="directory"/>, so that a rename or create inside it survives a
    /// crash. Throws <see cref="IoFailureException"/> with the errno on failure.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        int fd = Libc.Open(directory, Libc.O_RDONLY | Libc.DirectoryFlag | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw IoFailureException.FromErrno("open directory", directory, Marshal.GetLastPInvokeError());
        }
        try
        {
            if (Libc.Fsync(fd) != 0)
            {
                throw IoFailureException.FromErrno("fsync directory", directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>Asks the kernel to drop <paramref name="file"/>'s clean cached pages (<c>POSIX_FADV_DONTNEED</c>), so
    /// that the next reads come from the device. Best effort: dirty pages stay, and a failure is ignored.</summary>
    public static void DropCachedPages(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            _ = Libc.PosixFadvise((int)file.DangerousGetHandle(), 0, 0, Libc.POSIX_FADV_DONTNEED);
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>Allocates <paramref name="length"/> bytes of blocks for <paramref name="file"/> without changing its
    /// length (<c>fallocate(FALLOC_FL_KEEP_SIZE)</c>): a full disk is found before any data is written, and the file
    /// gets few extents. Returns 0 or the errno; file systems without fallocate answer EOPNOTSUPP, which callers
    /// ignore. (.NET's own preallocation reports a full disk without its errno.)</summary>
    public static int Preallocate(SafeFileHandle file, long length)
    {
        if (!OperatingSystem.IsLinux() || length == 0)
        {
            return 0;
        }
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return Libc.Fallocate((int)file.DangerousGetHandle(), Libc.FALLOC_FL_KEEP_SIZE, 0, length) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>Whether <paramref name="path"/> (links followed) is a regular file, not a device, FIFO or socket.
    /// False when it cannot be told (no <c>statx</c> in this C library, or it fails).</summary>
    public static bool IsRegularFile(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path);
        }
        StatxTimes stx;
        try
        {
            if (Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_STATX_SYNC_AS_STAT, Libc.STATX_TYPE, &stx) != 0)
            {
                return false;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false; // a C library older than glibc 2.28, or musl before 1.2.5
        }
        return (stx.Mode & Libc.S_IFMT) == Libc.S_IFREG;
    }

    /// <summary>The canonical path (symbolic links resolved), or the full path when it cannot be resolved.</summary>
    public static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        if (!OperatingSystem.IsLinux())
        {
            return full;
        }
        byte* resolved = Libc.Realpath(full, null);
        if (resolved is null)
        {
            return full;
        }
        try
        {
            return Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(resolved));
        }
        finally
        {
            Libc.Free(resolved);
        }
    }
}
