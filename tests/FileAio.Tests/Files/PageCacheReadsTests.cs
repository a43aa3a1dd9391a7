using FileAio.Async;
using FileAio.Buffers;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// The page-cache fast path of <see cref="AioFile"/> reads (<c>preadv2(RWF_NOWAIT)</c> on the calling thread): what
/// the cache holds is served there, synchronously; everything else reaches the engine, with the same results. The
/// page cache is set up for real (written, dropped with POSIX_FADV_DONTNEED and checked gone), and where a read was
/// served is read off the "fileaio.cached_reads" counter.
/// </summary>
public sealed class PageCacheReadsTests : FileAioTest
{
    private readonly AioEngineHost _host;
    private readonly MeasurementCounter _cachedReads = new("fileaio.cached_reads");

    /// <summary>How often a test retries a read that a race with the kernel's readahead may turn into a cache hit. One
    /// attempt takes about a millisecond; on a loaded machine the race is lost many times in a row (seen: 20).</summary>
    private const int RaceAttempts = 200;

    public PageCacheReadsTests()
    {
        Require.Linux();
        _host = Own(AioEngineHost.Create(AioEngineKind.Auto, threads: 1));
        Own(_cachedReads);
    }

    private AioFile OpenFile(string path, bool inline = true, bool direct = false, FileAccess access = FileAccess.ReadWrite) =>
        Own(AioFile.Open(path, FileMode.Open, access, new AioFileOptions { Host = _host, InlineCachedReads = inline, Direct = direct }));

    [Fact]
    public async Task CachedRead_CompletesOnTheCallingThread_WithTheData()
    {
        string path = CreatePatternFile("hot.bin", 64 * 1024);
        PageCache.Load(path, 0, 64 * 1024);
        AioFile file = OpenFile(path);
        var buffer = new byte[4096];

        ValueTask<int> read = file.ReadAsync(buffer, 8192);

        Assert.True(read.IsCompletedSuccessfully, "A read of cached data should complete before ReadAsync returns.");
        Assert.Equal(4096, await read);
        AssertPattern(buffer, 8192);
        Assert.Equal(1, _cachedReads.Total);
    }

    [Fact]
    public async Task ReadOfEvictedData_IsServedByTheEngine()
    {
        string path = CreatePatternFile("cold.bin", 64 * 1024);
        AioFile file = OpenFile(path);
        var buffer = new byte[4096];

        // The missed RWF_NOWAIT read starts reading the page in, and now and then that finishes before the kernel
        // looks again: the read is then served from the cache after all. So try until the engine has served one.
        bool byEngine = await UntilNotServedWholeFromTheCache(
            () => PageCache.Evict(path, 0, 64 * 1024),
            async () =>
            {
                Array.Clear(buffer);
                Assert.Equal(4096, await file.ReadAsync(buffer, 12288));
                AssertPattern(buffer, 12288);
            });
        Assert.True(byEngine, $"In {RaceAttempts} attempts every read of evicted data was served from the cache.");
    }

    [Fact]
    public async Task PartlyCachedRead_GetsTheRestFromTheEngine_AndReturnsEveryByte()
    {
        string path = CreatePatternFile("half.bin", 16 * 1024);
        AioFile file = OpenFile(path);
        var buffer = new byte[16 * 1024];

        // The missed part of a RWF_NOWAIT read still starts readahead, which now and then completes before the kernel
        // looks again, and the cache serves the read whole after all. So try until the split path has run.
        // Split: 8 KiB from the cache, the rest by the engine (not counted as served whole from the cache).
        bool split = await UntilNotServedWholeFromTheCache(
            () =>
            {
                PageCache.Evict(path, 0, 16 * 1024);
                PageCache.Load(path, 0, 8192); // the first half cached, the second not
                PageCache.AssertResident(path, 8192, 8192, expected: false);
            },
            async () =>
            {
                Array.Clear(buffer);
                Assert.Equal(buffer.Length, await file.ReadAsync(buffer, 0));
                AssertPattern(buffer, 0);
            });
        Assert.True(split, $"In {RaceAttempts} attempts the read was never split between the page cache and the engine.");
    }

    [Fact]
    public async Task ReadsAtAndAcrossTheEnd_ReturnWhatTheFileHas()
    {
        string path = CreatePatternFile("end.bin", 5000);
        PageCache.Load(path, 0, 5000);
        AioFile file = OpenFile(path);
        var buffer = new byte[8192];

        Assert.Equal(5000, await file.ReadAsync(buffer, 0));   // the cache gives 5000, the engine confirms the end
        AssertPattern(buffer.AsSpan(0, 5000), 0);
        Assert.Equal(0, await file.ReadAsync(buffer, 5000));
        Assert.Equal(0, await file.ReadAsync(buffer, 1_000_000));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await file.ReadExactlyAsync(buffer, 0));
    }

    [Fact]
    public async Task VectoredReads_AreServedFromTheCacheWhole_OrByTheEngine()
    {
        string path = CreatePatternFile("vec.bin", 32 * 1024);
        PageCache.Load(path, 0, 32 * 1024);
        AioFile file = OpenFile(path);
        var a = new byte[3000];
        var b = new byte[5192];

        ValueTask<int> hot = file.ReadAsync(new Memory<byte>[] { a, b }, 100);
        Assert.True(hot.IsCompletedSuccessfully);
        Assert.Equal(8192, await hot);
        AssertPattern(a, 100);
        AssertPattern(b, 3100);
        Assert.Equal(1, _cachedReads.Total);

        // Cached at first, then not: the engine reads it whole (again, readahead may win the race now and then).
        bool byEngine = await UntilNotServedWholeFromTheCache(
            () =>
            {
                PageCache.Evict(path, 0, 32 * 1024);
                PageCache.Load(path, 12000, 4000); // the pages at 8K and 12K cached, those at 16K and 20K not
            },
            async () =>
            {
                Array.Clear(a);
                Array.Clear(b);
                Assert.Equal(8192, await file.ReadAsync(new Memory<byte>[] { a, b }, 12000));
                AssertPattern(a, 12000);
                AssertPattern(b, 15000);
            });
        Assert.True(byEngine, $"In {RaceAttempts} attempts the partly cached vectored read was never left to the engine.");
    }

    [Fact]
    public async Task TurnedOff_EveryReadGoesToTheEngine()
    {
        string path = CreatePatternFile("off.bin", 16 * 1024);
        PageCache.Load(path, 0, 16 * 1024);
        AioFile file = OpenFile(path, inline: false);
        var buffer = new byte[4096];

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(4096, await file.ReadAsync(buffer, i * 4096));
            AssertPattern(buffer, i * 4096);
        }
        Assert.Equal(0, _cachedReads.Total);
    }

    [Fact]
    public async Task DirectFiles_NeverUseIt()
    {
        string path = CreatePatternFile("direct.bin", 64 * 1024);
        PageCache.Load(path, 0, 64 * 1024);
        AioFile file = OpenFile(path, direct: true);
        using var buffer = new AlignedBuffer(8192);

        Assert.Equal(8192, await file.ReadAsync(buffer.Memory, 8192));

        AssertPattern(buffer.Memory.Span, 8192);
        Assert.Equal(0, _cachedReads.Total);
    }

    [Fact]
    public async Task FileSystemWithoutNoWait_IsServedByTheEngine()
    {
        // tmpfs refuses RWF_NOWAIT (EOPNOTSUPP) even though its pages are always in memory.
        Assert.SkipUnless(System.IO.Directory.Exists("/dev/shm"), "Needs /dev/shm (tmpfs).");
        string path = $"/dev/shm/fileaio-test-{Guid.NewGuid():N}.bin";
        File.WriteAllBytes(path, Enumerable.Range(0, 8192).Select(i => PatternByte(i)).ToArray());
        try
        {
            AioFile file = OpenFile(path);
            var buffer = new byte[4096];
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(4096, await file.ReadAsync(buffer, 4096));
                AssertPattern(buffer, 4096);
            }
            Assert.Equal(0, _cachedReads.Total);
            file.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadOnAWriteOnlyHandle_FailsThroughTheEngineWithTheErrno()
    {
        string path = CreatePatternFile("wo.bin", 8192);
        AioFile file = OpenFile(path, access: FileAccess.Write);

        var e = await Assert.ThrowsAsync<IOException>(async () => await file.ReadAsync(new byte[100], 0));

        Assert.Equal(9, e.HResult); // EBADF
        Assert.Contains("wo.bin", e.Message);
    }

    [Fact]
    public async Task ReadsOverTheInlineLimit_GoToTheEngine()
    {
        int length = PageCacheReads.MaxInlineBytes + 4096;
        string path = CreatePatternFile("big.bin", length);
        PageCache.Load(path, 0, length);
        AioFile file = OpenFile(path);
        var buffer = new byte[length];

        Assert.Equal(length, await file.ReadAsync(buffer, 0));
        AssertPattern(buffer, 0);
        Assert.Equal(0, _cachedReads.Total);

        Assert.Equal(PageCacheReads.MaxInlineBytes, await file.ReadAsync(buffer.AsMemory(0, PageCacheReads.MaxInlineBytes), 0));
        Assert.Equal(1, _cachedReads.Total); // at the limit: still served inline
    }

    [Fact]
    public void ErrorsThatCannotChange_TurnThePathOffForTheFile()
    {
        string path = CreatePatternFile("wo-policy.bin", 8192);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        var policy = new PageCacheReads();

        Assert.True(policy.ShouldTry(4096));
        Assert.Equal(0, policy.TryRead(handle, new byte[4096], 0)); // EBADF: not open for reading

        for (int i = 0; i < 5000; i++)
        {
            Assert.False(policy.ShouldTry(4096));
        }
    }

    [Fact]
    public async Task VectoredReadAfterTheHandleWasClosedUnderTheFile_ThrowsObjectDisposed_AndDisposeStillReturns()
    {
        AioFile file = OpenFile(CreatePatternFile("closed.bin", 8192));
        file.Handle.Dispose(); // against the documentation, but it must not wedge the file

        Assert.Throws<ObjectDisposedException>(() => file.ReadAsync(new Memory<byte>[] { new byte[10], new byte[10] }, 0));
        Assert.Throws<ObjectDisposedException>(() => file.ReadAsync(new byte[10], 0));

        Task disposing = Task.Run(file.Dispose);
        Assert.True(await Task.WhenAny(disposing, Task.Delay(LongTimeout)) == disposing, "Dispose waited for an operation that never started.");
    }

    [Fact]
    public void Misses_BackOffDoublingUpTo1024_AndAHitResets()
    {
        const long Spacing = 1 << 20, Length = 16 * Spacing;
        string path = CreatePatternFile("policy.bin", Length);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        // A missed RWF_NOWAIT read still starts reading its pages in, so each miss below reads a region of its own,
        // a MiB from the others, with readahead off.
        Assert.Equal(0, TestNative.posix_fadvise((int)handle.DangerousGetHandle(), 0, 0, TestNative.POSIX_FADV_RANDOM));
        var buffer = new byte[4096];

        // The read a miss starts can finish before the kernel looks at the page again (the host's cache answers in
        // microseconds, and a busy CPU can stall this thread between the two), and then the "miss" is served: a real
        // hit, which rightly resets the back-off. The sequence then starts over with a fresh policy.
        for (int attempt = 1; !BackOffSequence(); attempt++)
        {
            Assert.True(attempt < 50, "In 50 attempts a read meant to miss was served every time.");
        }

        bool BackOffSequence()
        {
            PageCache.Evict(path, 0, Length);
            var policy = new PageCacheReads();
            Assert.True(policy.ShouldTry(4096));
            int expectedSkip = 1;
            for (int miss = 0; miss < 12; miss++)
            {
                PageCache.Evict(path, miss * Spacing, 4096); // again: the kernel's readahead may have reached it meanwhile
                if (!Missed(policy, miss * Spacing))
                {
                    return false;
                }
                for (int skipped = 0; skipped < expectedSkip; skipped++)
                {
                    Assert.False(policy.ShouldTry(4096), $"After miss {miss + 1}, read {skipped + 1} of {expectedSkip} should skip the cache.");
                }
                Assert.True(policy.ShouldTry(4096));
                expectedSkip = Math.Min(expectedSkip * 2, 1024);
            }

            PageCache.Load(path, 14 * Spacing, 4096);
            Assert.Equal(4096, policy.TryRead(handle, buffer, 14 * Spacing)); // a hit
            AssertPattern(buffer, 14 * Spacing);
            PageCache.Evict(path, 15 * Spacing, 4096);
            if (!Missed(policy, 15 * Spacing))                                // the next miss starts again at 1
            {
                return false;
            }
            Assert.False(policy.ShouldTry(4096));
            Assert.True(policy.ShouldTry(4096));
            return true;
        }

        // A read of an evicted page: 0 (a miss), or the whole page if its read won the race described above.
        bool Missed(PageCacheReads policy, long offset)
        {
            int read = policy.TryRead(handle, buffer, offset);
            if (read != 0)
            {
                Assert.Equal(4096, read);
                AssertPattern(buffer, offset);
            }
            return read == 0;
        }
    }

    /// <summary>Sets the cache up and reads, until a read is not served whole from the cache (the fast-path counter
    /// did not move), at most <see cref="RaceAttempts"/> times: a missed RWF_NOWAIT read starts readahead, which now
    /// and then finishes before the kernel looks again. Returns whether such a read happened.</summary>
    private async Task<bool> UntilNotServedWholeFromTheCache(Action setUp, Func<Task> read)
    {
        for (int attempt = 0; attempt < RaceAttempts; attempt++)
        {
            setUp();
            long before = _cachedReads.Total;
            await read();
            if (_cachedReads.Total == before)
            {
                return true;
            }
        }
        return false;
    }

    private static void AssertPattern(ReadOnlySpan<byte> data, long fileOffset)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != PatternByte(fileOffset + i))
            {
                Assert.Fail($"Byte at {fileOffset + i} is {data[i]}, expected {PatternByte(fileOffset + i)}.");
            }
        }
    }
}
