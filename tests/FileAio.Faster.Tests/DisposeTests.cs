using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>Dispose: it waits for I/O and removals and their callbacks, it may be called from one of those callbacks,
/// and I/O after it fails through the callback with an error code.</summary>
public abstract class DisposeTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int SegmentBits = 16;
    private const uint EBADF = 9;

    [Fact]
    public void Dispose_WaitsForTheIoInFlightAndItsCallbacks_ThenDeletesOnClose()
    {
        const int Writes = 64;
        using var buffer = new AlignedBuffer(Writes * 4096, 4096);
        var device = new FileAioDevice(PathOf("log"), deleteOnClose: true, options: Options());
        device.Initialize(1L << SegmentBits);
        int called = 0;
        int failed = 0;
        for (int i = 0; i < Writes; i++)
        {
            device.WriteAsync(buffer.Address + i * 4096, (ulong)i * 4096 * 4, 4096, (error, _, _) =>
            {
                if (error != 0)
                {
                    Interlocked.Increment(ref failed); // checked below: a throwing callback would end the process
                }
                Thread.Sleep(1); // a callback still running holds Dispose back
                Interlocked.Increment(ref called);
            }, null!);
        }
        device.Dispose();
        Assert.Equal(Writes, Volatile.Read(ref called));
        Assert.Equal(0, Volatile.Read(ref failed));
        Assert.Equal(0, device.InFlight);
        Assert.Empty(System.IO.Directory.GetFiles(Directory, "log.*"));
    }

    [Fact]
    public void Dispose_FromAnIoCallback_ReturnsAndLaterIoFailsWithEbadf()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        using var disposed = new ManualResetEventSlim();
        device.WriteAsync(buffer.Address, 0, 4096, (_, _, _) =>
        {
            device.Dispose(); // must not wait for this very callback
            disposed.Set();
        }, null!);
        Assert.True(disposed.Wait(TimeSpan.FromSeconds(30)), "Dispose called from the device's own callback never returned.");

        DeviceCalls.Outcome after = DeviceCalls.Write(device, buffer.Address, 0, 4096);
        Assert.Equal((EBADF, 0u), (after.ErrorCode, after.Bytes));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Io_AfterDispose_FailsThroughItsCallbackWithEbadf(bool write)
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode); // segment 0 open, then closed
        device.Dispose();

        foreach (ulong address in new[] { 0UL, 1UL << SegmentBits }) // a segment that was open, and one that never was
        {
            DeviceCalls.Outcome after = write
                ? DeviceCalls.Write(device, buffer.Address, address, 4096)
                : DeviceCalls.Read(device, address, buffer.Address, 4096);
            Assert.Equal((EBADF, 0u), (after.ErrorCode, after.Bytes));
            Assert.NotEqual(after.IssuingThread, after.CallbackThread);
        }
        Assert.False(File.Exists(PathOf("log.1")));
    }

    [Fact]
    public async Task Dispose_WhileARemovalsCallbackRuns_WaitsForItToReturn()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 1UL << SegmentBits, 4096).ErrorCode);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int returned = 0;
        device.RemoveSegmentAsync(1, _ =>
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            Volatile.Write(ref returned, 1);
        }, null!);
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));

        Task<int> disposing = Task.Run(() =>
        {
            device.Dispose();
            return Volatile.Read(ref returned); // what Dispose found when it returned
        });
        // Long enough for a Dispose that does not wait to have returned; a right one is still waiting.
        await Task.Delay(200, TestContext.Current.CancellationToken);
        release.Set();
        Assert.Equal(1, await disposing.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Dispose_FromARemovalsCallback_Returns()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 1UL << SegmentBits, 4096).ErrorCode);
        using var disposed = new ManualResetEventSlim();
        device.RemoveSegmentAsync(1, _ =>
        {
            device.Dispose(); // must not wait for this very removal
            disposed.Set();
        }, null!);
        Assert.True(disposed.Wait(TimeSpan.FromSeconds(30)), "Dispose called from a removal's callback never returned.");
        Assert.False(File.Exists(PathOf("log.1")));
    }
}
