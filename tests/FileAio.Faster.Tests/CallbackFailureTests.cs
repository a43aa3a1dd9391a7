using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>A callback that throws: its exception is thrown unhandled on the thread pool (ending the process; caught here
/// by <see cref="RaisedFailures"/>), never lost, and only after the device has accounted for the I/O or removal.</summary>
public abstract class CallbackFailureTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int SegmentBits = 16;

    [Fact]
    public void IoCallback_ThatThrows_IsRaisedUnhandled_AfterTheIoIsAccountedFor()
    {
        using var raised = new RaisedFailures();
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        device.WriteAsync(buffer.Address, 0, 4096, (_, _, _) => throw new InvalidOperationException("from the I/O callback"), null!);

        Exception? failure = raised.Next();
        Assert.Equal("from the I/O callback", Assert.IsType<InvalidOperationException>(failure).Message);
        Assert.Equal(0, device.InFlight);
    }

    [Fact]
    public void RemovalCallback_ThatThrows_IsRaisedUnhandled_AfterTheRemovalIsAccountedFor()
    {
        using var raised = new RaisedFailures();
        using var buffer = new AlignedBuffer(4096, 4096);
        FileAioDevice device = NewDevice("log");
        device.Initialize(1L << SegmentBits);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 1UL << SegmentBits, 4096).ErrorCode);
        device.RemoveSegmentAsync(1, _ => throw new InvalidOperationException("from the removal callback"), null!);

        Exception? failure = raised.Next();
        Assert.Equal("from the removal callback", Assert.IsType<InvalidOperationException>(failure).Message);
        Assert.True(Task.Run(device.Dispose).Wait(TimeSpan.FromSeconds(30)), "Dispose waited for a removal that had ended.");
        Assert.False(File.Exists(PathOf("log.1")));
    }
}
