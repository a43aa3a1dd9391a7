using FileAio.Engines.IoUring;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>
/// <see cref="AioContextOptions.SingleThreaded"/>: one thread makes every call but Wakeup. On io_uring the ring is then
/// SINGLE_ISSUER | DEFER_TASKRUN and wakeups come through an eventfd read kept armed in the ring.
/// </summary>
public sealed class SingleThreadedContextTests : FileAioTest
{
    public SingleThreadedContextTests()
    {
        Assert.SkipUnless(IoUringProbe.Current.IsSupported, $"io_uring cannot run here: {IoUringProbe.Current.Reason}");
    }

    /// <summary>A single-threaded context. Tests dispose it themselves (<c>using</c>), on the thread that created it:
    /// the test class's own Dispose may run on another thread, which such a context refuses.</summary>
    private static AioContext NewContext(int capacity = 64, bool waitWithoutPendingRequests = false) =>
        AioContext.Create(capacity, new AioContextOptions
        {
            Engine = AioEngineKind.IoUring,
            SingleThreaded = true,
            WaitWithoutPendingRequests = waitWithoutPendingRequests,
        });

    private static List<AioRequest> WaitFor(AioContext context, int count)
    {
        var output = new AioRequest[Math.Max(count, 1)];
        var all = new List<AioRequest>();
        while (all.Count < count)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            Assert.NotEqual(AioWaitReason.TimedOut, result.Reason);
            all.AddRange(output[..result.Count]);
        }
        return all;
    }

    [Fact]
    public void ReadsAndWrites_RoundTrip_WithDirectIoAndRegisteredBuffers()
    {
        using AioContext context = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("s.bin", 1 << 20), FileMode.Open, FileAccess.ReadWrite, direct: true);
        context.AssociateWithFile(file);
        var buffers = Enumerable.Range(0, 16).Select(_ => Own(new FileAio.Buffers.AlignedBuffer(4096))).ToArray();
        var requests = Enumerable.Range(0, 16).Select(_ => Own(new AioRequest())).ToArray();
        for (int i = 0; i < 16; i++)
        {
            context.AssociateWithBuffer(buffers[i].Memory);
            requests[i].PrepareRead(file, i * 8192L, buffers[i].Memory, i);
        }
        Assert.Equal(16, context.Submit(requests));
        foreach (AioRequest request in WaitFor(context, 16))
        {
            int i = (int)request.UserState!;
            Assert.Equal(4096, request.BytesTransferred);
            for (int b = 0; b < 4096; b++)
            {
                Assert.True(buffers[i].Memory.Span[b] == PatternByte(i * 8192L + b), $"request {i} byte {b}");
            }
        }
    }

    [Fact]
    public void Wakeup_FromAnotherThread_InterruptsTheOwnersWait_AndIsConsumedOnce()
    {
        using AioContext context = NewContext(waitWithoutPendingRequests: true);
        var output = new AioRequest[1];
        int owner = TestNative.gettid();
        var waker = new Thread(() =>
        {
            BlockingCall.WaitUntilAsleep(owner, LongTimeout); // the owner is inside Wait
            context.Wakeup();
        });
        waker.Start();
        Assert.Equal(AioWaitReason.Interrupted, context.Wait(1, LongTimeout, output).Reason);
        waker.Join();
        Assert.Equal(AioWaitReason.TimedOut, context.Wait(1, TimeSpan.FromMilliseconds(20), output).Reason);

        // Before the Wait, from another thread; and with nothing outstanding it still wins over NoRequests.
        using AioContext plain = NewContext();
        var before = new Thread(plain.Wakeup);
        before.Start();
        before.Join();
        Assert.Equal(AioWaitReason.Interrupted, plain.Wait(1, TimeSpan.Zero, output).Reason);
        Assert.Equal(AioWaitReason.NoRequests, plain.Wait(1, TimeSpan.Zero, output).Reason);
    }

    [Fact]
    public void ZeroTimeoutPoll_SeesCompletionsTheKernelDeferredToThisThread()
    {
        using AioContext context = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("p.bin", 4096));
        using var request = new AioRequest();
        request.PrepareRead(file, 0, new byte[512]);
        context.Submit([request]);
        var output = new AioRequest[1];
        AioWaitResult result = default;
        for (int i = 0; i < 1000 && result.Count == 0; i++)
        {
            result = context.Wait(1, TimeSpan.Zero, output);
        }
        Assert.Equal(new AioWaitResult(1, AioWaitReason.Completed), result);
    }

    [Fact]
    public void CallsFromAnotherThread_AreRefused_ButWakeupIsNot()
    {
        using AioContext context = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("o.bin", 4096));
        using var request = new AioRequest();
        request.PrepareRead(file, 0, new byte[16]);
        Exception? submit = null, wait = null, dispose = null, wakeup = null;
        var other = new Thread(() =>
        {
            submit = Record(() => context.Submit([request]));
            wait = Record(() => context.Wait(1, TimeSpan.Zero, new AioRequest[1]));
            dispose = Record(context.Dispose);
            wakeup = Record(context.Wakeup);
        });
        other.Start();
        other.Join();
        Assert.IsType<InvalidOperationException>(submit);
        Assert.Contains("SingleThreaded", submit!.Message);
        Assert.IsType<InvalidOperationException>(wait);
        Assert.IsType<InvalidOperationException>(dispose);
        Assert.Null(wakeup);
        Assert.Equal(AioRequestState.Prepared, request.State);
    }

    [Fact]
    public void CancelAndDispose_WithAHeldRead_CancelInTheKernelAndLeaveNothingBehind()
    {
        var context = AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.IoUring, SingleThreaded = true });
        using var hold = new FifoHold(Directory, 2);
        ReleaseFirstAtEnd(hold.Release);
        AioRequest[] held = [Own(new AioRequest()), Own(new AioRequest())];
        hold.PrepareRead(held[0], 0);
        hold.PrepareRead(held[1], 1);
        context.Submit(held);

        Assert.Equal(AioCancelResult.Canceled, held[0].Cancel());
        Assert.Equal(1, context.Outstanding);
        context.Dispose(); // cancels the other one, reaps it and the armed eventfd read
        Assert.Equal(AioStatus.Canceled, held[1].Status);
        hold.Release();
        using (var probe = AioContext.Create(1, new AioContextOptions { Engine = AioEngineKind.IoUring, SingleThreaded = true }))
        {
            using var read = new AioRequest(); // data flows now: this read gets it, and the cancelled buffers must not
            read.PrepareRead(hold.ReadFifo, 0, new byte[4096]);
            probe.Submit([read]);
            Assert.Equal(1, probe.Wait(1, LongTimeout, new AioRequest[1]).Count);
        }
        Assert.All(hold.ReadBuffer(0).ToArray(), b => Assert.Equal(0xEE, b));
        Assert.All(hold.ReadBuffer(1).ToArray(), b => Assert.Equal(0xEE, b));
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
