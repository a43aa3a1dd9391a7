namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Puts a file's pages into or out of the page cache, and checks which are there (Linux). Residency is read with
/// <c>mincore</c> on a mapping of the file, which reads nothing; a probe read would not do, since a missed
/// RWF_NOWAIT read still starts readahead.
/// </summary>
internal static unsafe class PageCache
{
    private const int Page = 4096;

    /// <summary>Drops the range's pages from the cache (written back first, so they are clean and can go), and checks
    /// that they are gone.</summary>
    public static void Evict(string path, long offset, long length)
    {
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
        {
            int fd = (int)handle.DangerousGetHandle();
            Assert.Equal(0, TestNative.fdatasync(fd));
            Assert.Equal(0, TestNative.posix_fadvise(fd, offset, length, TestNative.POSIX_FADV_DONTNEED));
        }
        AssertResident(path, offset, length, expected: false);
    }

    /// <summary>Reads exactly the range, with readahead off, so that its pages and no others become cached.</summary>
    public static void Load(string path, long offset, long length)
    {
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read))
        {
            Assert.Equal(0, TestNative.posix_fadvise((int)handle.DangerousGetHandle(), 0, 0, TestNative.POSIX_FADV_RANDOM));
            RandomAccess.Read(handle, new byte[length], offset);
        }
        AssertResident(path, offset, length, expected: true);
    }

    /// <summary>Asserts that every page of the range is (or is not) in the page cache.</summary>
    public static void AssertResident(string path, long offset, long length, bool expected)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        long fileLength = RandomAccess.GetLength(handle);
        var size = (nuint)fileLength;
        void* map = TestNative.mmap(null, size, TestNative.PROT_READ, TestNative.MAP_SHARED, (int)handle.DangerousGetHandle(), 0);
        Assert.True(map != (void*)-1, "mmap of the file failed.");
        try
        {
            var vector = new byte[(fileLength + Page - 1) / Page];
            fixed (byte* v = vector)
            {
                Assert.Equal(0, TestNative.mincore(map, size, v));
            }
            for (long page = offset / Page; page * Page < Math.Min(offset + length, fileLength); page++)
            {
                bool resident = (vector[page] & 1) != 0;
                Assert.True(resident == expected,
                    $"The page at {page * Page} of {path} is {(resident ? "" : "not ")}in the page cache.");
            }
        }
        finally
        {
            TestNative.munmap(map, size);
        }
    }
}
