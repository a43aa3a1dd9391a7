using FileAio.Buffers;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// An io_uring engine thread registers the files and aligned buffers it serves with its ring the first time an
/// operation uses them (the kernel then skips its per-operation file lookup and page pinning). What that must not
/// change: closing a file closes it (the kernel's table holds a registered file open), a buffer disposed and another
/// allocated at the same address over other pages reads into the new pages, and a ring's tables do not fill up. Run
/// on every host; the ring's own tables (its fdinfo) are looked at where the engine is io_uring.
/// </summary>
public sealed class RegisteredOnFirstUseTests : LoopTest
{
    private bool OnIoUring => Host.Engine == AioEngineKind.IoUring;

    [Theory, EachHost]
    public async Task Dispose_ReleasesTheFile_ThoughTheRingRegisteredIt(string host)
    {
        Use(host);
        string path = CreatePatternFile("locked.bin", 64 * 1024);
        var buffer = new byte[4096];
        for (int round = 0; round < 12; round++)
        {
            bool onLoop = round % 2 == 1, disposeAsync = round % 3 == 0;
            async Task UseAndClose()
            {
                // FileShare.None takes flock(LOCK_EX) on the open file: held as long as the kernel holds the file.
                AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.ReadWrite,
                    new AioFileOptions { Host = Host, Share = FileShare.None, InlineCachedReads = Variant.InlineCachedReads });
                await file.WriteAllAsync(buffer.AsMemory(0, 512), 4096L * round);
                Assert.Equal(4096, await file.ReadAsync(buffer, 0));
                await file.FlushAsync(dataOnly: true);
                if (OnIoUring)
                {
                    Assert.Equal(1, RingTables.FileEntries(Host, path)); // registered: the rest of the test means something
                }
                if (disposeAsync)
                {
                    await file.DisposeAsync();
                }
                else if (onLoop)
                {
                    await file.DisposeAsync(); // Dispose on the file's own loop is refused
                }
                else
                {
                    file.Dispose();
                }
            }
            await Bounded(onLoop ? Host.Loops[0].RunAsync(UseAndClose) : UseAndClose());

            Assert.Equal(0, RingTables.FileEntries(Host, path));
            using FileStream again = File.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None); // throws if still locked
        }
    }

    [Theory, EachHost]
    public async Task ManyFiles_EachOpenedUsedAndClosed_MoreThanTheTableHolds(string host)
    {
        Use(host);
        const int Files = 1200; // more than a ring's table (1024 entries): slots of closed files are reused
        string path = CreatePatternFile("many.bin", 8192, seed: 3);
        var expected = File.ReadAllBytes(path);
        int wrong = await Bounded(Host.Loops[1].RunAsync(async () =>
        {
            int mismatches = 0;
            var read = new byte[8192];
            for (int i = 0; i < Files; i++)
            {
                await using AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.Read,
                    new AioFileOptions { Host = Host, InlineCachedReads = false });
                Assert.Equal(8192, await file.ReadAsync(read, 0));
                mismatches += read.AsSpan().SequenceEqual(expected) ? 0 : 1;
            }
            return mismatches;
        }));
        Assert.Equal(0, wrong);
        Assert.Equal(0, RingTables.FileEntries(Host, path));
    }

    [Theory, EachHost]
    public async Task DisposedBuffer_ReplacedByOneAtTheSameAddress_ReadsLandInTheNewOne(string host)
    {
        Use(host);
        Require.Linux();
        const int Block = 256 * 1024, Blocks = 8, Rounds = 40;
        string path = CreatePatternFile("pages.bin", (long)Block * Blocks, seed: 5);
        var expected = File.ReadAllBytes(path);
        // Blocks of this size get a mapping of their own, unmapped when freed: the next one is mapped over new pages,
        // usually at the same address — the case where finding a registration by address would read into the old pages.
        Assert.Equal(1, TestNative.mallopt(TestNative.M_MMAP_THRESHOLD, 128 * 1024));
        ReleaseFirstAtEnd(() => _ = TestNative.mallopt(TestNative.M_MMAP_THRESHOLD, 128 * 1024));
        await using AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.Read,
            new AioFileOptions { Host = Host, Direct = true });
        var addresses = new HashSet<nint>();
        int reused = 0, wrong = 0, registeredSeen = 0;
        for (int round = 0; round < Rounds; round++)
        {
            using var buffer = new AlignedBuffer(Block);
            reused += addresses.Add(buffer.Address) ? 0 : 1;
            int block = (round * 3) % Blocks;
            Assert.Equal(Block, await Bounded(file.ReadAsync(buffer.Memory, (long)block * Block).AsTask()));
            wrong += buffer.GetSpan().SequenceEqual(expected.AsSpan(block * Block, Block)) ? 0 : 1;
            if (OnIoUring && RingTables.BufferEntries(Host).Any(e => e.Address == (ulong)buffer.Address))
            {
                registeredSeen++;
            }
        }
        Assert.Equal(0, wrong);
        Assert.True(reused > 0, "no address came back: the case under test did not happen");
        if (OnIoUring)
        {
            Assert.True(registeredSeen > 0, "no buffer was registered: the case under test did not happen");
        }
    }

    [Theory, EachHost]
    public async Task BuffersThatComeAndGo_DoNotStayPinned(string host)
    {
        Use(host);
        const int Rounds = 400;
        string path = CreatePatternFile("churn.bin", 4096, seed: 7);
        var expected = File.ReadAllBytes(path);
        await using AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.Read,
            new AioFileOptions { Host = Host, Direct = true });
        int wrong = 0, most = 0;
        for (int round = 0; round < Rounds; round++)
        {
            using var buffer = new AlignedBuffer(4096);
            Assert.Equal(4096, await Bounded(file.ReadAsync(buffer.Memory, 0).AsTask()));
            wrong += buffer.GetSpan().SequenceEqual(expected) ? 0 : 1;
            most = OnIoUring ? Math.Max(most, RingTables.BufferEntries(Host).Count) : 0;
        }
        Assert.Equal(0, wrong);
        if (OnIoUring)
        {
            // Entries of disposed buffers are cleared every 64 registrations, and churn like this (every buffer disposed
            // after one read) stops registration for the ring: none is left pinned.
            Assert.InRange(most, 1, 64);
            Assert.Empty(RingTables.BufferEntries(Host));
        }
    }
}
