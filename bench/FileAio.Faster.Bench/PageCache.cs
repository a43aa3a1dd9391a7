using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Faster.Bench;

/// <summary>The page cache of the store's files: drop it, fill it, and measure how much of it is there.</summary>
internal static class PageCache
{
    private static readonly long s_pageSize = Environment.SystemPageSize;

    /// <summary>Opens a store file for the cache calls only (no I/O of the store goes through this descriptor: the page
    /// cache belongs to the file, not to a descriptor, so any descriptor can drop or probe it).</summary>
    public static SafeFileHandle Open(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    /// <summary><c>posix_fadvise(POSIX_FADV_DONTNEED)</c> over the whole file: the kernel starts writeback of dirty
    /// pages and drops every clean, unmapped page of the file from the cache. Pages under writeback or just added to
    /// a per-CPU LRU batch may survive one call; the next call takes them.</summary>
    public static void Drop(SafeFileHandle file)
    {
        int error = Libc.PosixFadvise((int)file.DangerousGetHandle(), 0, 0, Libc.PosixFadvDontNeed);
        if (error != 0)
        {
            throw new Win32Exception(error, $"posix_fadvise(DONTNEED) on {file}");
        }
    }

    /// <summary>Reads the file through the page cache from start to end, so that it is resident.</summary>
    public static void Fill(string path)
    {
        byte[] chunk = new byte[1 << 20];
        using SafeFileHandle file = Open(path);
        long length = RandomAccess.GetLength(file);
        for (long offset = 0; offset < length;)
        {
            int read = RandomAccess.Read(file, chunk, offset);
            if (read == 0)
            {
                break;
            }
            offset += read;
        }
    }

    /// <summary>Bytes of the file in the page cache and the file's length, from <c>mincore</c> over a read-only
    /// shared mapping (mapping touches no page; nothing is read in).</summary>
    public static unsafe (long Resident, long Length) Residency(SafeFileHandle file)
    {
        long length = RandomAccess.GetLength(file);
        if (length == 0)
        {
            return (0, 0);
        }
        long pages = (length + s_pageSize - 1) / s_pageSize;
        IntPtr map = Libc.Mmap(IntPtr.Zero, (nuint)length, Libc.ProtRead, Libc.MapShared, (int)file.DangerousGetHandle(), 0);
        if (map == Libc.MapFailed)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "mmap of a store file");
        }
        byte[] vector = new byte[pages];
        try
        {
            fixed (byte* v = vector)
            {
                if (Libc.Mincore(map, (nuint)length, v) != 0)
                {
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), "mincore of a store file");
                }
            }
        }
        finally
        {
            _ = Libc.Munmap(map, (nuint)length);
        }
        long resident = 0;
        foreach (byte page in vector)
        {
            resident += page & 1; // bit 0: the page is resident; the others are reserved
        }
        return (Math.Min(resident * s_pageSize, length), length);
    }

    /// <summary>The fraction of the files' bytes in the page cache (0 when they are empty).</summary>
    public static double ResidentFraction(IEnumerable<string> paths)
    {
        long resident = 0, length = 0;
        foreach (string path in paths)
        {
            using SafeFileHandle file = Open(path);
            (long r, long l) = Residency(file);
            resident += r;
            length += l;
        }
        return length == 0 ? 0 : (double)resident / length;
    }
}
