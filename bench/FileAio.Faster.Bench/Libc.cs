using System.Runtime.InteropServices;

namespace FileAio.Faster.Bench;

/// <summary>The few libc calls the benchmark needs (Linux, x86-64 and arm64 values).</summary>
internal static partial class Libc
{
    /// <summary><c>POSIX_FADV_DONTNEED</c>: write back, then drop, the file's cached pages in the range.</summary>
    public const int PosixFadvDontNeed = 4;

    public const int ProtRead = 1;
    public const int MapShared = 1;
    public const int ClockProcessCpuTime = 2;

    public static readonly IntPtr MapFailed = new(-1);

    /// <summary>Returns 0 or an errno (glibc returns the error, it does not set errno).</summary>
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    public static partial int PosixFadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial IntPtr Mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(IntPtr address, nuint length);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    public static unsafe partial int Mincore(IntPtr address, nuint length, byte* vector);

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    public static partial int ClockGetTime(int clock, out TimeSpec time);

    [LibraryImport("libc", EntryPoint = "pthread_self")]
    public static partial nuint PthreadSelf();

    /// <summary>Returns 0 or an errno.</summary>
    [LibraryImport("libc", EntryPoint = "pthread_getcpuclockid")]
    public static partial int PthreadGetCpuClockId(nuint thread, out int clock);

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;

        public readonly TimeSpan ToTimeSpan() => TimeSpan.FromTicks(Seconds * TimeSpan.TicksPerSecond + Nanoseconds / 100);
    }
}
