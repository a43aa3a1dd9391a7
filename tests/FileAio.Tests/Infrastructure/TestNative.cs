using System.Runtime.InteropServices;

namespace FileAio.Tests.Infrastructure;

/// <summary>libc calls the tests need to build real kernel situations (stalled copies, mounts). Linux x64/arm64.</summary>
internal static unsafe partial class TestNative
{
    public const int PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    public const int O_CLOEXEC = 0x80000, O_NONBLOCK = 0x800, O_RDWR = 2, O_RDONLY = 0;

    /// <summary>O_DIRECTORY: 0200000 on x86-64, 040000 on arm64.</summary>
    public static int O_DIRECTORY => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, uint mode);

    /// <summary>The calling thread's kernel id (glibc 2.30+).</summary>
    [LibraryImport("libc")]
    public static partial int gettid();

    /// <summary>glibc's malloc tuning; M_MMAP_THRESHOLD (-3) fixes the size from which blocks get mappings of their own
    /// (and lose them on free), which also turns off glibc's raising of that threshold.</summary>
    [LibraryImport("libc")]
    public static partial int mallopt(int param, int value);

    public const int M_MMAP_THRESHOLD = -3;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    public static long SysUserfaultfd => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 282 : 323;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, void* arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial long syscall(long number, long a1);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    public const int POSIX_FADV_RANDOM = 1, POSIX_FADV_DONTNEED = 4, MAP_SHARED = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mincore(void* address, nuint length, byte* vector);

    /// <summary>Returns the error number (0 on success), not -1 and errno.</summary>
    [LibraryImport("libc")]
    public static partial int posix_fadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fdatasync(int fd);


    public const short POLLIN = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;
}
