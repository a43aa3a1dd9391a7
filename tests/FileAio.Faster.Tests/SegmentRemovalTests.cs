using FASTER.core;
using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>Segments that are gone stay gone: a late read or write of a removed segment fails and opens nothing, and a
/// read never creates a segment file (nothing would remove it again).</summary>
public abstract class SegmentRemovalTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int SegmentBits = 16;
    private const uint EBADF = 9;

    private static ulong Address(int segment, int offset = 0) => ((ulong)segment << SegmentBits) + (ulong)offset;

    private static void Remove(FileAioDevice device, int segment)
    {
        using var removed = new ManualResetEventSlim();
        device.RemoveSegmentAsync(segment, _ => removed.Set(), null!);
        Assert.True(removed.Wait(TimeSpan.FromSeconds(30)), "The removal never called back.");
    }

    [Fact]
    public void IoToARemovedSegment_FailsWithEbadf_AndCreatesNoFile()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, Address(0), 4096).ErrorCode);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, Address(1), 4096).ErrorCode);

        Remove(device, 0);

        DeviceCalls.Outcome read = DeviceCalls.Read(device, Address(0), buffer.Address, 4096);
        DeviceCalls.Outcome written = DeviceCalls.Write(device, buffer.Address, Address(0), 4096);
        Assert.Equal((EBADF, 0u), (read.ErrorCode, read.Bytes));
        Assert.Equal((EBADF, 0u), (written.ErrorCode, written.Bytes));
        Assert.False(File.Exists(PathOf("log.0")), "a late I/O re-created the removed segment's file");
        DeviceCalls.Outcome kept = DeviceCalls.Read(device, Address(1), buffer.Address, 4096);
        Assert.Equal((0u, 4096u), (kept.ErrorCode, kept.Bytes));
    }

    [Fact]
    public void Io_InFileAioWhenItsSegmentIsRemoved_FailsWithEbadf()
    {
        Fifo.Create(PathOf("log.0")); // a read of it waits for data that never comes, until the file is closed
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log", direct: false); // O_DIRECT does not apply to a FIFO
        device.Initialize(1L << SegmentBits);
        using var called = new ManualResetEventSlim();
        (uint Error, uint Bytes) outcome = default;
        device.ReadAsync(Address(0), buffer.Address, 512, (error, bytes, _) =>
        {
            outcome = (error, bytes);
            called.Set();
        }, null!);
        Assert.False(called.Wait(100), "a read of an empty FIFO completed");

        Remove(device, 0);

        Assert.True(called.Wait(TimeSpan.FromSeconds(30)), "the read cut off by the removal never called back");
        Assert.Equal((EBADF, 0u), outcome);
    }

    [Fact]
    public void Read_OfASegmentWithoutAFile_ReadsNothingAndCreatesNone()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);

        DeviceCalls.Outcome read = DeviceCalls.Read(device, Address(3), buffer.Address, 4096);
        Assert.Equal((0u, 0u), (read.ErrorCode, read.Bytes)); // as a read past the end of a file
        Assert.False(File.Exists(PathOf("log.3")));

        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, Address(3), 4096).ErrorCode); // a write creates it
        Assert.True(File.Exists(PathOf("log.3")));
    }

    [Fact]
    public void Read_OfASegmentWhoseDirectoryIsGone_ReadsNothing()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        string gone = PathOf("gone");
        using FileAioDevice device = NewDevice("log", under: gone);
        device.Initialize(1L << SegmentBits);
        System.IO.Directory.Delete(gone); // made by the constructor, removed by someone else since

        DeviceCalls.Outcome read = DeviceCalls.Read(device, Address(0), buffer.Address, 4096);
        Assert.Equal((0u, 0u), (read.ErrorCode, read.Bytes));
        Assert.False(System.IO.Directory.Exists(gone));
    }

    [Fact]
    public void TruncateUntilSegment_RefusesLateIoBelowTheNewStart_AndServesTheRest()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        var epoch = new LightEpoch(); // has Dispose but is not IDisposable
        try
        {
            TruncateAndCheck(epoch, buffer);
        }
        finally
        {
            epoch.Dispose();
        }
    }

    private void TruncateAndCheck(LightEpoch epoch, AlignedBuffer buffer)
    {
        const int Segments = 6;
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits, epoch);
        for (int segment = 0; segment < Segments; segment++)
        {
            Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, Address(segment), 4096).ErrorCode);
        }

        device.TruncateUntilSegment(2); // FASTER's path: StartSegment moves first, the removals run as an epoch action
        device.TruncateUntilSegment(4);

        Assert.Equal(4, device.StartSegment);
        for (int segment = 0; segment < Segments; segment++)
        {
            DeviceCalls.Outcome read = DeviceCalls.Read(device, Address(segment), buffer.Address, 4096);
            bool removed = segment < 4;
            Assert.Equal(removed ? (EBADF, 0u) : (0u, 4096u), (read.ErrorCode, read.Bytes));
            Assert.Equal(!removed, File.Exists(PathOf($"log.{segment}")));
        }
    }
}
