using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio;

/// <summary>
/// Opening files for FileAio and asking them what direct I/O needs. (The async, <c>ValueTask</c>-based file API
/// grows here.)
/// </summary>
public static class AioFile
{
    /// <summary>
    /// Opens a file for positional I/O, optionally with direct I/O: real O_DIRECT on Linux, which .NET's
    /// <see cref="FileOptions"/> silently drops there. Sharing is <see cref="FileShare.Read"/>, as
    /// <see cref="File.OpenHandle"/> does by default.
    /// </summary>
    /// <param name="path">The file to open.</param>
    /// <param name="mode">How to open or create it.</param>
    /// <param name="access">Read, write, or both.</param>
    /// <param name="direct">Bypass the page cache. Transfers on the handle must then follow
    /// <see cref="GetAlignment"/>; FileAio checks that and says which rule a request breaks.</param>
    /// <exception cref="IOException">The file cannot be opened, or its file system refuses direct I/O; the message
    /// carries the errno and the path, and <see cref="Exception.HResult"/> is the errno (as .NET does on Unix).</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="direct"/> on an OS where FileAio does not implement it.</exception>
    public static SafeFileHandle OpenHandle(string path, FileMode mode, FileAccess access, bool direct = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle = File.OpenHandle(path, mode, access);
        if (!direct)
        {
            return handle;
        }
        try
        {
            DirectIo.Enable(handle, path);
            FileIoInfo.Remember(handle, new FileIoInfo(true, FileAlignment.Get(handle)));
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The alignment direct I/O needs on <paramref name="file"/>: from <c>statx</c>'s <c>STATX_DIOALIGN</c> (Linux 6.1+),
    /// else the logical block size of the device holding it, else 4096. Meaningful whether or not the handle is
    /// open for direct I/O right now.
    /// </summary>
    public static AioAlignment GetAlignment(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        ObjectDisposedException.ThrowIf(file.IsClosed, file);
        return FileAlignment.Get(file);
    }
}
