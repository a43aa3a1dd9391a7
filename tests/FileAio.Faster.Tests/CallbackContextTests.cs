using FASTER.core;
using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>What a callback runs under: the I/O loops are long-lived and shared by every caller of the device, so no
/// caller's ExecutionContext (its AsyncLocals) may stay in them and reach other callers' callbacks.</summary>
public abstract class CallbackContextTests(AioEngineKind engine) : FasterTest(engine)
{
    private static readonly AsyncLocal<string?> s_caller = new();

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // buffered: reads the page cache holds complete inside ReadAsync, then hop to the pool
    public void Callbacks_OfSuccessiveCallers_SeeNoCallersAsyncLocals(bool direct)
    {
        using FileAioDevice device = NewDevice("log", direct: direct);
        device.Initialize(1L << 16);
        using var buffer = new AlignedBuffer(4096, 4096);

        var seen = new List<string?>();
        foreach (string? value in new[] { "first", "second", null })
        {
            s_caller.Value = value;
            // One I/O at a time, each issued once the last is given back: the same pooled I/O state serves them all,
            // the first of them on a new one.
            seen.Add(SeenByCallback(device, cb => device.WriteAsync(buffer.Address, 0, 4096, cb, null!)));
            seen.Add(SeenByCallback(device, cb => device.ReadAsync(0, buffer.Address, 4096, cb, null!)));
        }
        s_caller.Value = null;

        Assert.All(seen, Assert.Null);
    }

    [Fact]
    public void AsyncLocal_SetByACallback_IsNotSeenByTheNextIosCallback()
    {
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << 16);
        using var buffer = new AlignedBuffer(4096, 4096);

        var seen = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            seen.Add(SeenByCallback(device, cb => device.WriteAsync(buffer.Address, 0, 4096, (e, n, c) =>
            {
                cb(e, n, c);
                s_caller.Value = "set by a callback";
            }, null!)));
        }

        Assert.All(seen, Assert.Null);
    }

    [Fact]
    public void Io_IssuedByACallerWithAsyncLocals_AllocatesNothingOnItsThread()
    {
        using var buffer = new AlignedBuffer(4096, 4096);
        using FileAioDevice device = NewDevice("log");
        device.Initialize(1L << 16);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode);
        using var done = new AutoResetEvent(false);
        DeviceIOCompletionCallback callback = (_, _, _) => done.Set();

        // Keeping the caller's context out of the loop must not cost per I/O: ExecutionContext.SuppressFlow would clone
        // a context holding values, twice per I/O (80 bytes, measured).
        s_caller.Value = "caller";
        long allocated = 0;
        const int Warmup = 200, Measured = 1000;
        for (int i = 0; i < Warmup + Measured; i++)
        {
            Assert.True(SpinWait.SpinUntil(() => device.InFlight == 0, TimeSpan.FromSeconds(30)));
            long before = GC.GetAllocatedBytesForCurrentThread();
            device.ReadAsync(0, buffer.Address, 4096, callback, null!);
            if (i >= Warmup)
            {
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Assert.True(done.WaitOne(TimeSpan.FromSeconds(30)));
        }
        s_caller.Value = null;

        Assert.True(allocated < Measured / 2, $"{(double)allocated / Measured:F2} bytes per I/O on the issuing thread");
    }

    private static string? SeenByCallback(FileAioDevice device, Action<DeviceIOCompletionCallback> issue)
    {
        using var done = new ManualResetEventSlim();
        string? seen = "never called";
        uint error = uint.MaxValue;
        issue((e, _, _) =>
        {
            error = e;
            seen = s_caller.Value;
            done.Set();
        });
        Assert.True(done.Wait(TimeSpan.FromSeconds(30)), "The device never called back.");
        Assert.True(SpinWait.SpinUntil(() => device.InFlight == 0, TimeSpan.FromSeconds(30)));
        Assert.Equal(0u, error);
        return seen;
    }
}
