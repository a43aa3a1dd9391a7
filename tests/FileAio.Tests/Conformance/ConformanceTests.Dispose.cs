using System.Diagnostics;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §1 and §7: Dispose cancels, reaps everything the kernel owes, and loses nothing; TryClose reports busy.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void Dispose_WithWorkOutstanding_CompletesEveryRequest_AndNoBufferIsWrittenAfterItReturns(string engine) => Run(engine, () =>
    {
        const int Count = 256;
        var context = CreateContext(Count);
        SafeFileHandle file = OpenPatternFile(Count * 4096L);
        AioRequest[] requests = NewRequests(Count);
        var buffers = new byte[Count][];
        for (int i = 0; i < Count; i++)
        {
            buffers[i] = Enumerable.Repeat((byte)0xEE, 4096).ToArray();
            requests[i].PrepareRead(file, i * 4096L, buffers[i], i);
        }
        SubmitAll(context, requests);

        context.Dispose();

        byte[][] snapshot = buffers.Select(b => (byte[])b.Clone()).ToArray();
        Assert.All(requests, r => Assert.Equal(AioRequestState.Completed, r.State));
        for (int i = 0; i < Count; i++)
        {
            if (requests[i].Status == AioStatus.Canceled)
            {
                Assert.All(buffers[i], b => Assert.Equal(0xEE, b));
            }
            else
            {
                Assert.Equal(AioStatus.Success, requests[i].Status);
                AssertPattern(buffers[i], i * 4096L);
            }
        }

        // Requests are free again and work on another context; when that work is done, the kernel has had every
        // chance to write late into the first buffers, and must not have.
        using AioContext next = NewContext(Count);
        foreach (AioRequest request in requests)
        {
            request.PrepareRead(file, 0, new byte[16]);
        }
        SubmitAll(next, requests);
        Assert.Equal(Count, WaitForAll(next, Count).Count);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(snapshot[i], buffers[i]); // nothing wrote into a buffer after Dispose returned
        }
    });

    // SPEC §1: Dispose cancels what is outstanding and reaps every completion the kernel owes before it returns.
    [Theory]
    [EachContext]
    public void Dispose_WithAReadHeldInTheKernel_CancelsItAndReturns(string engine) => Run(engine, () =>
    {
        var context = CreateContext(4);
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(context, hold);

        using (var watchdog = new Watchdog(LongTimeout, hold.Release))
        {
            context.Dispose(); // the kernel can stop a read waiting on an empty FIFO: Dispose cancels it and returns
            Assert.False(watchdog.Fired, "Dispose returned only because the watchdog fed the FIFO.");
        }
        Assert.Equal(AioStatus.Canceled, request.Status);
        hold.Release();
        using AioContext probe = CreateContext(1);
        ReadOnceMoreFrom(probe, hold);
        Assert.All(hold.ReadBuffer(0).ToArray(), b => Assert.Equal(0xEE, b));
    });

    [Theory]
    [EachContext(AnyThread = true)]
    public void Dispose_WhileAnotherThreadWaits_InterruptsItAndLaterCallsThrow(string engine) => Run(engine, () =>
    {
        var context = CreateContext(4, waitWithoutPendingRequests: true);
        var waiter = new BlockingCall<AioWaitResult>(() => context.Wait(1, LongTimeout, new AioRequest[1]));
        waiter.WaitUntilAsleep(LongTimeout);

        context.Dispose();
        Assert.Equal(AioWaitReason.Interrupted, waiter.Result(LongTimeout).Reason);

        context.Dispose(); // idempotent
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        request.PrepareRead(file, 0, new byte[1]);
        Assert.Throws<ObjectDisposedException>(() => context.Submit([request]));
        Assert.Throws<ObjectDisposedException>(() => context.Wait(1, TimeSpan.Zero, new AioRequest[1]));
        Assert.Throws<ObjectDisposedException>(context.Wakeup);
        Assert.Equal(AioRequestState.Prepared, request.State);
    });

    [Theory]
    [EachContext]
    public void TryClose_WhileBusy_ReturnsFalseAndKeepsWorking_ThenClosesWhenIdle(string engine) => Run(engine, () =>
    {
        var context = CreateContext(4);
        SafeFileHandle file = OpenPatternFile(4096);
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(context, hold);

        Assert.False(context.TryClose());
        Assert.Equal(1, context.Outstanding);

        hold.Release();
        WaitForAll(context, 1);
        Assert.True(context.TryClose());
        Assert.Throws<ObjectDisposedException>(context.Wakeup);
    });

    [Theory]
    [EachContext]
    public void CreateAndDispose_Repeatedly_LeavesNoThreadAndNoDescriptor(string engine) => Run(engine, () =>
    {
        Require.Linux();
        // io_destroy waits for an RCU grace period (about 35 ms here): Linux AIO does 100 cycles in this suite, and its
        // own tests (LinuxAioEngineTests) do 1,000 from several threads at once.
        int cycles = EngineKind == AioEngineKind.LinuxAio ? 100 : 1000;
        SafeFileHandle file = OpenPatternFile(4096);
        int descriptorsBefore = Directory_CountDescriptors();
        HashSet<int> workersBefore = PoolWorkerThreads.Snapshot();
        using var request = new AioRequest();
        for (int i = 0; i < cycles; i++)
        {
            using AioContext context = CreateContext(8);
            if (i % 10 == 0)
            {
                request.PrepareRead(file, 0, new byte[16]);
                context.Submit([request]);
                WaitForAll(context, 1);
            }
        }

        // Threads are joined by Dispose; the OS removes the last one from /proc a moment later.
        SpinWait.SpinUntil(() => PoolWorkerThreads.CountNew(workersBefore) == 0, TimeSpan.FromSeconds(5));
        Assert.True(PoolWorkerThreads.CountNew(workersBefore) == 0, "Threads left: " + string.Join(", ", DescribeThreads()));
        Assert.InRange(Directory_CountDescriptors(), 0, descriptorsBefore + 2); // the runtime may open a few of its own
    });

    private static int Directory_CountDescriptors() => System.IO.Directory.GetFileSystemEntries("/proc/self/fd").Length;

    private static IEnumerable<string> DescribeThreads() =>
        System.IO.Directory.GetDirectories("/proc/self/task").Select(t => Path.GetFileName(t) + ":" + File.ReadAllText(Path.Combine(t, "comm")).Trim());
}
