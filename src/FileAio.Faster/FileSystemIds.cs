using System.Runtime.InteropServices;

namespace FileAio.Faster;

/// <summary>
/// Which file system holds a path: the device number <c>statx</c> reports for it (<c>stx_dev_major</c>:<c>stx_dev_minor</c>,
/// what <c>st_dev</c> says). .NET does not expose it, and FileAio keeps its own <c>statx</c> import internal.
/// </summary>
/// <remarks>Linux 4.11+ with a C library that has the <c>statx</c> wrapper (glibc 2.28+); elsewhere there is no answer and
/// callers fall back to something coarser. The struct offsets are the kernel ABI (<c>linux/stat.h</c>), the same ones
/// FileAio's ABI test pins.</remarks>
internal static unsafe partial class FileSystemIds
{
    private const int AT_FDCWD = -100;
    private const uint STATX_TYPE = 0x1;        // the least to ask for; the device numbers come with every answer
    private const int StatxSize = 256;
    private const int DevMajorOffset = 0x88;
    private const int DevMinorOffset = 0x8c;

    /// <summary>The file system of <paramref name="path"/> (which must exist), or null when it cannot be learned here.</summary>
    public static (uint Major, uint Minor)? Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        byte* buffer = stackalloc byte[StatxSize];
        try
        {
            if (statx(AT_FDCWD, path, 0, STATX_TYPE, buffer) != 0)
            {
                return null; // ENOSYS on a kernel before 4.11, or a seccomp filter that refuses statx
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a C library without the wrapper (musl before 1.2.5)
        }
        return (*(uint*)(buffer + DevMajorOffset), *(uint*)(buffer + DevMinorOffset));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
