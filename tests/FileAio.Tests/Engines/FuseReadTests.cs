using FileAio.Testing;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>
/// A large read of a FUSE file that the file system fails partway: the kernel splits it into several FUSE requests,
/// the first succeeds, a later one fails with EIO. A positional read reports the bytes of the first request; io_uring
/// (Linux 6.18, seen here) retries the rest from the read's starting offset and reports every byte as read. So files on
/// FUSE get the thread-pool engine under Auto (docs/engines.md, "FUSE").
/// </summary>
public sealed class FuseReadTests : FileAioTest
{
    private const long ReadOffset = 524_288;
    private const int ReadLength = 256 * 1024;
    private const int BadAt = 175_712; // file offset 700,000: in the read's second FUSE request, whatever the alignment

    [Fact]
    public void ThreadPoolEngine_ReportsTheBytesBeforeTheFailure()
    {
        using FaultyFileSystem faulty = MountFaulty();
        using var context = AioContext.Create(4, new AioContextOptions { Engine = AioEngineKind.ThreadPool });
        using SafeFileHandle file = AioFile.OpenHandle(faulty.FilePath, FileMode.Open, FileAccess.Read);
        byte[] buffer = new byte[ReadLength];

        AioRequest read = ReadOnce(context, file, buffer);

        Assert.Equal(AioStatus.Success, read.Status);
        Assert.InRange(read.BytesTransferred, 1, BadAt - 1);
        AssertFileBytes(buffer, (int)read.BytesTransferred);
    }

    [Fact]
    public void IoUringEngine_OnThisKernel_ClaimsTheWholeReadWithWrongBytes_OrIsFixed()
    {
        Assert.SkipUnless(AioContext.GetLimits(AioEngineKind.IoUring).IsSupported, "io_uring cannot run here");
        using FaultyFileSystem faulty = MountFaulty();
        using var context = AioContext.Create(4, new AioContextOptions { Engine = AioEngineKind.IoUring });
        using SafeFileHandle file = AioFile.OpenHandle(faulty.FilePath, FileMode.Open, FileAccess.Read);
        byte[] buffer = new byte[ReadLength];

        AioRequest read = ReadOnce(context, file, buffer);

        // This pins the kernel's behaviour, so that a change is noticed: a fixed kernel reports a short count (or EIO),
        // and then this passes through the first branch; the defect reports every byte while some of them are not the
        // file's. Anything else is a third behaviour, and fails.
        if (read.Status == AioStatus.Failed || read.BytesTransferred < BadAt)
        {
            Assert.True(read.Status == AioStatus.Success || read.ErrorCode == 5, $"unexpected error {read.ErrorCode}");
            AssertFileBytes(buffer, (int)read.BytesTransferred);
            return;
        }
        Assert.Equal(ReadLength, read.BytesTransferred);
        Assert.False(HoldsFileBytes(buffer, ReadLength), "io_uring reported the whole read and every byte is right?");
    }

    [Fact]
    public async Task AioFileUnderAuto_OnFuse_RunsOnTheThreadPoolEngine_AndReportsTheShortRead()
    {
        using FaultyFileSystem faulty = MountFaulty();
        AioFile file = Own(AioFile.Open(faulty.FilePath, FileMode.Open, FileAccess.Read));
        byte[] buffer = new byte[ReadLength];

        Assert.Equal(AioEngineKind.ThreadPool, file.Engine);
        int read = await file.ReadAsync(buffer, ReadOffset);
        Assert.InRange(read, 1, BadAt - 1);
        AssertFileBytes(buffer, read);
        var e = await Assert.ThrowsAsync<IOException>(async () => await file.ReadExactlyAsync(buffer, ReadOffset));
        Assert.Equal(5, e.HResult); // the loop's next read starts at the bad request and fails: EIO, not bad data
        await file.DisposeAsync();
    }

    [Fact]
    public async Task AioFileWithIoUringAskedFor_OnFuse_KeepsIoUring()
    {
        Assert.SkipUnless(AioContext.GetLimits(AioEngineKind.IoUring).IsSupported, "io_uring cannot run here");
        using FaultyFileSystem faulty = MountFaulty();
        AioFile file = Own(AioFile.Open(faulty.FilePath, FileMode.Open, FileAccess.Read,
            new AioFileOptions { Engine = AioEngineKind.IoUring }));

        Assert.Equal(AioEngineKind.IoUring, file.Engine); // the caller's choice stands; the docs say what it risks
        await file.DisposeAsync();
    }

    private FaultyFileSystem MountFaulty()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        string backing = CreatePatternFile("backing.bin", 1 << 20);
        return FaultyFileSystem.Mount(backing, PathOf("faultfs"), (ReadOffset + BadAt, ReadOffset + BadAt + 1));
    }

    private static AioRequest ReadOnce(AioContext context, SafeFileHandle file, byte[] buffer)
    {
        var read = new AioRequest();
        read.PrepareRead(file, ReadOffset, buffer, null);
        context.Submit([read]);
        var done = new AioRequest[1];
        Assert.Equal(1, context.Wait(1, LongTimeout, done).Count);
        return read;
    }

    private static bool HoldsFileBytes(byte[] buffer, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (buffer[i] != PatternByte(ReadOffset + i))
            {
                return false;
            }
        }
        return true;
    }

    private static void AssertFileBytes(byte[] buffer, int count) =>
        Assert.True(HoldsFileBytes(buffer, count), "A byte reported as read is not the file's.");
}
