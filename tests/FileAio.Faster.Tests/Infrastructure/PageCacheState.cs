using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>
/// The kernel's count of a file's dirty and under-writeback pages (<c>cachestat</c>, Linux 6.5+): whether data a write
/// put in the page cache has reached the device. Pages an fdatasync wrote are neither dirty nor under writeback once it
/// returns.
/// </summary>
internal static partial class PageCacheState
{
    private const long SysCachestat = 451; // the same number on x86-64 and arm64 (the generic syscall table)

    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatRange
    {
        public ulong Offset;
        public ulong Length; // 0: to the end of the file
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Cachestat
    {
        public ulong Cached;
        public ulong Dirty;
        public ulong Writeback;
        public ulong Evicted;
        public ulong RecentlyEvicted;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long Syscall(long number, int fd, CachestatRange* range, Cachestat* stat, uint flags);

    /// <summary>Pages of <paramref name="path"/> that are dirty or being written back, or null where the kernel has
    /// no <c>cachestat</c> (before 6.5, or refused by a filter).</summary>
    public static unsafe ulong? UnwrittenPages(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var range = new CachestatRange();
        var stat = new Cachestat();
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            long result = Syscall(SysCachestat, (int)handle.DangerousGetHandle(), &range, &stat, 0);
            return result == 0 ? stat.Dirty + stat.Writeback : null;
        }
        finally
        {
            handle.DangerousRelease();
        }
    }
}
