using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>Reset closes every segment file and the next I/O reopens it; an I/O that Reset's close cuts off (FASTER
/// means to reset with none in flight, but nothing stops it) is carried on the reopened file, not failed.</summary>
public abstract class ResetTests(AioEngineKind engine) : FasterTest(engine)
{
    [Fact]
    public void Io_InFileAioWhenTheDeviceIsReset_CarriesOnOnTheReopenedFile()
    {
        const int Length = 512;
        Fifo.Create(PathOf("log.0")); // a read of it waits for data, through the close and the reopen
        // The test's own end of the FIFO, read-write so that opening it never blocks and the pipe outlives the device's.
        using var feeder = new FileStream(PathOf("log.0"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        using var buffer = new AlignedBuffer(Length, 4096);
        using FileAioDevice device = NewDevice("log", direct: false); // O_DIRECT does not apply to a FIFO
        device.Initialize(1L << 16);
        using var called = new ManualResetEventSlim();
        (uint Error, uint Bytes) outcome = default;
        device.ReadAsync(0, buffer.Address, Length, (error, bytes, _) =>
        {
            outcome = (error, bytes);
            called.Set();
        }, null!);
        Assert.False(called.Wait(100), "a read of an empty FIFO completed");

        device.Reset();
        byte[] data = [.. Enumerable.Range(0, Length).Select(i => (byte)(i * 3))];
        feeder.Write(data);
        feeder.Flush();

        Assert.True(called.Wait(TimeSpan.FromSeconds(30)), "the read cut off by Reset never called back");
        Assert.Equal((0u, (uint)Length), outcome);
        Assert.True(data.AsSpan().SequenceEqual(buffer.GetSpan()[..Length]));
    }
}
