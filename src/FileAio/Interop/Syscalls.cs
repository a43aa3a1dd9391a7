using System.Runtime.InteropServices;

namespace FileAio.Interop;

/// <summary>Raw system calls, memory mapping, eventfd and poll. Declarations only.</summary>
internal static unsafe partial class Syscalls
{
    private const string LibraryName = "libc";

    /// <summary>libc's <c>syscall(2)</c>. It is variadic; on Linux x86-64 and arm64 variadic integer arguments travel
    /// in the same registers as fixed ones, so a fixed six-argument declaration calls it correctly.</summary>
    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* address, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(void* address, nuint length, int advice);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, void* buffer, nuint count);

    /// <summary><c>poll(2)</c>: waits until one of <paramref name="count"/> descriptors is ready, or
    /// <paramref name="timeoutMilliseconds"/> (-1: for ever).</summary>
    [LibraryImport(LibraryName, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;

    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int MAP_SHARED = 1;
    public const int MAP_POPULATE = 0x8000;
    public const int MADV_DONTFORK = 10;
    public static readonly nint MAP_FAILED = -1;
}
