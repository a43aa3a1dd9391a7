using FASTER.core;
using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>The device on its own, as FASTER calls it: files, sector size, callbacks, errors, recovery, removal.</summary>
public abstract unsafe class DeviceTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int SegmentBits = 16;

    [Fact]
    public void WriteThenRead_GoesToTheSegmentFileAndCallsBackOnAnotherThread()
    {
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(3 * 4096, 4096);
        Fill(buffer.GetSpan(), seed: 7);
        ulong address = (2UL << SegmentBits) + 4096; // segment 2, offset 4096

        DeviceCalls.Outcome written = DeviceCalls.Write(device, buffer.Address, address, 3 * 4096);
        Assert.Equal(0u, written.ErrorCode);
        Assert.Equal(3u * 4096, written.Bytes);
        Assert.NotEqual(written.IssuingThread, written.CallbackThread);
        Assert.True(File.Exists(PathOf("log.2")));
        Assert.Equal(4 * 4096, new FileInfo(PathOf("log.2")).Length);

        using var back = new AlignedBuffer(3 * 4096, 4096);
        DeviceCalls.Outcome read = DeviceCalls.Read(device, address, back.Address, 3 * 4096);
        Assert.Equal(0u, read.ErrorCode);
        Assert.Equal(3u * 4096, read.Bytes);
        Assert.True(buffer.GetSpan().SequenceEqual(back.GetSpan()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SegmentFiles_AreWriteThroughByDefault_AsFastersOwnDevice(bool writeThrough)
    {
        const int O_SYNC = 0x101000; // __O_SYNC | O_DSYNC, the same on x86-64 and arm64
        FileAioDeviceOptions options = writeThrough ? Options() : new FileAioDeviceOptions { Engine = Engine, WriteThrough = false };
        using var device = new FileAioDevice(PathOf("log"), options: options);
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode);

        // The kernel's own view of the segment file's descriptor, not the options the device was given.
        string segment = PathOf("log.0");
        string fd = System.IO.Directory.GetFiles("/proc/self/fd").Single(link =>
            new FileInfo(link).LinkTarget is string target && target == segment);
        string flags = File.ReadAllLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").First(l => l.StartsWith("flags:", StringComparison.Ordinal))[6..].Trim();
        Assert.Equal(writeThrough ? O_SYNC : 0, Convert.ToInt32(flags, 8) & O_SYNC);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BufferedWriteThrough_CallsBackOnlyOnceThePagesAreWritten_WithoutOSync(bool writeThrough)
    {
        const int O_SYNC = 0x101000;
        using var device = new FileAioDevice(PathOf("log"), options: new FileAioDeviceOptions
        {
            Engine = Engine, Direct = false, WriteThrough = writeThrough,
        });
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4 * 4096, 4096);
        Fill(buffer.GetSpan(), seed: 3);

        DeviceCalls.Outcome written = DeviceCalls.Write(device, buffer.Address, 4096, 4 * 4096);
        Assert.Equal(0u, written.ErrorCode);
        Assert.Equal(4u * 4096, written.Bytes);

        // Read as soon as the callback has come: an fdatasync done before it left nothing dirty or in writeback. Without
        // write-through the pages are still dirty (the kernel's writeback waits 30 s for them), which shows the check bites.
        ulong? unwritten = PageCacheState.UnwrittenPages(PathOf("log.0"));
        Assert.SkipWhen(unwritten is null, "cachestat is not available on this kernel.");
        if (writeThrough)
        {
            Assert.Equal(0UL, unwritten);
        }
        else
        {
            Assert.True(unwritten > 0, "the written pages should still be dirty without write-through");
        }

        // Not O_SYNC: io_uring would run such writes of one file one at a time (SegmentFiles.SyncsAfterWrites).
        string segment = PathOf("log.0");
        string fd = System.IO.Directory.GetFiles("/proc/self/fd").Single(link =>
            new FileInfo(link).LinkTarget is string target && target == segment);
        string flags = File.ReadAllLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").First(l => l.StartsWith("flags:", StringComparison.Ordinal))[6..].Trim();
        Assert.Equal(0, Convert.ToInt32(flags, 8) & O_SYNC);

        using var back = new AlignedBuffer(4 * 4096, 4096);
        Assert.Equal(0u, DeviceCalls.Read(device, 4096, back.Address, 4 * 4096).ErrorCode);
        Assert.True(buffer.GetSpan().SequenceEqual(back.GetSpan()));
    }

    [Fact]
    public void Read_PastTheEndOfTheSegment_ReportsTheBytesThere()
    {
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(8192, 4096);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode);

        DeviceCalls.Outcome read = DeviceCalls.Read(device, 0, buffer.Address, 8192);
        Assert.Equal(0u, read.ErrorCode);
        Assert.Equal(4096u, read.Bytes);
    }

    [Fact]
    public void SectorSize_IsTheDirectIoAlignmentOfTheDirectory()
    {
        using FileAioDevice device = NewDevice("log");
        using var probe = File.OpenHandle(PathOf("probe"), FileMode.CreateNew, FileAccess.ReadWrite);
        AioAlignment alignment = AioFile.GetAlignment(probe);
        Assert.Equal((uint)Math.Max(alignment.MemoryAlignment, alignment.OffsetAlignment), device.SectorSize);
        Assert.InRange(device.SectorSize, 1u, 4096u); // the logical block size, not a page-sized guess beyond it
    }

    [Fact]
    public void Write_BreakingTheDirectIoRule_FailsThroughTheCallbackWithEinval()
    {
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);

        DeviceCalls.Outcome written = DeviceCalls.Write(device, buffer.Address, 0, 100); // not a multiple of the sector
        Assert.Equal(22u, written.ErrorCode); // EINVAL, reported, not thrown
        Assert.Equal(0u, written.Bytes);
        Assert.NotEqual(written.IssuingThread, written.CallbackThread);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Io_LongerThanAnInt_FailsThroughTheCallbackWithEinval(bool write)
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        const uint TooLong = (uint)int.MaxValue + 4096; // sector-aligned, and more than a Memory<byte> can hold

        DeviceCalls.Outcome outcome = write
            ? DeviceCalls.Write(device, buffer.Address, 0, TooLong)
            : DeviceCalls.Read(device, 0, buffer.Address, TooLong);
        Assert.Equal((22u, 0u), (outcome.ErrorCode, outcome.Bytes)); // EINVAL, not a success of 0 bytes
        Assert.NotEqual(outcome.IssuingThread, outcome.CallbackThread);
        Assert.False(File.Exists(PathOf("log.0"))); // refused before any file was opened
    }

    [Fact]
    public void MetadataDevice_WithoutInitialize_UsesSegmentZeroAndReportsItsLength()
    {
        using (FileAioDevice device = NewDevice("commit"))
        {
            using var buffer = new AlignedBuffer(4096, 4096);
            Fill(buffer.GetSpan(), seed: 3);
            Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 1024).ErrorCode);
            Assert.Equal(1024, device.GetFileSize(0));
        }
        Assert.True(File.Exists(PathOf("commit.0")));
        using FileAioDevice again = NewDevice("commit");
        Assert.Equal(1024, again.GetFileSize(0));
        Assert.Equal(0, new FileAioDevice(PathOf("absent"), options: Options()).GetFileSize(0));
        Assert.False(File.Exists(PathOf("absent.0"))); // answering does not create the file
    }

    [Fact]
    public void RecoverDevice_TakesTheLastRunOfSegmentFiles()
    {
        foreach (string name in new[] { "log.1", "log.3", "log.4", "log.5", "log.obj.7", "log.6.tmp", "other.9" })
        {
            File.WriteAllBytes(PathOf(name), []);
        }
        using FileAioDevice device = NewDevice("log", recover: true);
        Assert.Equal(3, device.StartSegment);
        Assert.Equal(5, device.EndSegment);

        File.Delete(PathOf("log.1"));
        foreach (string name in new[] { "log.3", "log.4", "log.5" })
        {
            File.Delete(PathOf(name));
        }
        File.WriteAllBytes(PathOf("log.8"), []);
        using FileAioDevice single = NewDevice("log", recover: true);
        Assert.Equal(8, single.StartSegment);
        Assert.Equal(8, single.EndSegment);
    }

    [Fact]
    public void RemoveSegmentAsync_ClosesAndDeletesTheFileThenCallsBack()
    {
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 1UL << SegmentBits, 4096).ErrorCode);
        Assert.True(File.Exists(PathOf("log.1")));

        using var removed = new ManualResetEventSlim();
        device.RemoveSegmentAsync(1, _ => removed.Set(), null!);
        Assert.True(removed.Wait(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(PathOf("log.1")));
    }

    private static void Fill(Span<byte> span, int seed)
    {
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = (byte)((i * 7 + seed) % 251);
        }
    }
}
