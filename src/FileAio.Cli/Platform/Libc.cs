using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Platform;

/// <summary>The few libc calls the CLI makes itself (the library covers the I/O). Declarations only.</summary>
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    public const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000; // x86-64; arm64 differs, see DirectoryFlag
    public const int O_CLOEXEC = 0x80000;
    public const int POSIX_FADV_DONTNEED = 4;

    /// <summary>libc's variadic <c>syscall(2)</c>: on Linux x86-64 and arm64 variadic integer arguments travel in the
    /// same registers as fixed ones, so a fixed declaration calls it correctly (as the library does).</summary>
    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, long a2, long a3, long a4);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(LibraryName, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    /// <summary>Returns the error number itself (not -1 and errno), as POSIX specifies.</summary>
    [LibraryImport(LibraryName, EntryPoint = "posix_fadvise")]
    public static partial int PosixFadvise(int fd, long offset, long length, int advice);

    public const int FALLOC_FL_KEEP_SIZE = 1;

    [LibraryImport(LibraryName, EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(LibraryName, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial byte* Realpath(string path, byte* resolved);

    [LibraryImport(LibraryName, EntryPoint = "free")]
    public static partial void Free(void* pointer);

    public const int AT_FDCWD = -100;
    public const int AT_STATX_SYNC_AS_STAT = 0;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_BASIC_STATS = 0x7ff;

    // stx_mode: the file type bits and the set-id bits (linux/stat.h).
    public const int S_IFMT = 0xf000;
    public const int S_IFREG = 0x8000;
    public const int S_ISUID = 0x800;
    public const int S_ISGID = 0x400;

    [LibraryImport(LibraryName, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, StatxTimes* buffer);

    [LibraryImport(LibraryName, EntryPoint = "fchown", SetLastError = true)]
    public static partial int FChown(SafeFileHandle fd, uint owner, uint group);

    [LibraryImport(LibraryName, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(SafeFileHandle fd, uint mode);

    /// <summary>Sets access and modification time (<paramref name="times"/>[0] and [1]) to the nanosecond.</summary>
    [LibraryImport(LibraryName, EntryPoint = "futimens", SetLastError = true)]
    public static partial int FUtimens(SafeFileHandle fd, Timespec* times);

    /// <summary><c>O_DIRECTORY</c>: 0x10000 on x86-64, 0x4000 on arm64 (asm-generic vs. arm64's own fcntl.h).</summary>
    public static int DirectoryFlag => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : O_DIRECTORY;
}
