using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>What is particular to the thread-pool engine: its workers, what it can cancel, and its flush barrier.</summary>
public sealed class ThreadPoolEngineTests : FileAioTest
{

    private AioContext NewContext(int capacity = 256) =>
        Own(AioContext.Create(capacity, new AioContextOptions { Engine = AioEngineKind.ThreadPool }));

    private readonly HashSet<int> _workersBefore = PoolWorkerThreads.Snapshot();

    /// <summary>Pool workers started since this test began (a process-wide host may keep idle ones of its own).</summary>
    private int CountWorkerThreads() => PoolWorkerThreads.CountNew(_workersBefore);

    [Fact]
    public void Workers_AreNamedAndCapped_AndOnlyQueuedRequestsCanBeCancelled()
    {
        const int Count = 64;
        AioContext context = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 4096));
        UserfaultStall stall = NewStall(Count * 4096);
        var requests = new AioRequest[Count];
        for (int i = 0; i < Count; i++)
        {
            requests[i] = Own(new AioRequest());
            requests[i].PrepareRead(file, 0, stall.Memory.Slice(i * 4096, 4096));
        }
        Assert.Equal(Count, context.Submit(requests));

        // Wait until the workers have taken what they can; each is then stuck in the kernel.
        SpinWait.SpinUntil(() => requests.Count(r => FileAio.Engines.ThreadPool.PositionalWorkers.IsInSystemCall(r.Operation)) == CountWorkerThreads()
            && CountWorkerThreads() > 0, LongTimeout);
        int workers = CountWorkerThreads();
        Assert.InRange(workers, 1, 16);

        int canceled = 0, inProgress = 0;
        foreach (AioRequest request in requests)
        {
            switch (request.Cancel())
            {
                case AioCancelResult.Canceled: canceled++; break;
                case AioCancelResult.InProgress: inProgress++; break;
                default: Assert.Fail("A stuck or queued request can only be cancelled or in progress."); break;
            }
        }
        Assert.Equal(workers, inProgress);
        Assert.Equal(Count - workers, canceled);

        stall.Release();
        List<AioRequest> reported = [];
        var output = new AioRequest[Count];
        while (reported.Count < workers)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            reported.AddRange(output[..result.Count]);
        }
        Assert.All(reported, r => Assert.Equal(4096, r.BytesTransferred));
    }

    [Fact]
    public void Flush_DoesNotWaitForWritesSubmittedAfterIt()
    {
        AioContext context = NewContext();
        SafeFileHandle file = Open(PathOf("barrier.bin"), FileMode.CreateNew);
        UserfaultStall stall = NewStall();
        using var stuckWrite = new AioRequest();
        using var flush = new AioRequest();
        using var laterWrite = new AioRequest();
        stuckWrite.PrepareWrite(file, 0, stall.Memory[..4096]);
        flush.PrepareFlush(file);
        // Another file: the stuck write holds its own file's inode lock inside the kernel, which a later write to the
        // same file would queue behind whatever the engine does.
        laterWrite.PrepareWrite(Open(PathOf("other.bin"), FileMode.CreateNew), 0, new byte[4096]);
        context.Submit([stuckWrite, flush, laterWrite]);

        // The later write overtakes the flush (it is not ordered behind it); the flush still waits for the stuck one.
        var output = new AioRequest[3];
        AioWaitResult first = context.Wait(1, LongTimeout, output);
        Assert.Equal(1, first.Count);
        Assert.Same(laterWrite, output[0]);
        Assert.Equal(AioWaitReason.TimedOut, context.Wait(1, TimeSpan.FromMilliseconds(200), output).Reason);
        Assert.Equal(AioRequestState.Submitted, flush.State);

        stall.Release();
        var rest = new List<AioRequest>();
        while (rest.Count < 2)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            rest.AddRange(output[..result.Count]);
        }
        Assert.Equal(new[] { stuckWrite, flush }, rest);
    }

    [Fact]
    public void StaleCancel_AimedAtAContextTheRequestHasLeft_ChangesNothing()
    {
        // A canceller that read Owner = first, while the request was reaped there and resubmitted to second, reaches
        // first.Cancel late. It must neither cancel the new submission nor upset either context's accounting.
        AioContext first = NewContext();
        AioContext second = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("s.bin", 4096));
        UserfaultStall stall = NewStall(2 * 4096);
        using var request = new AioRequest();
        using var blocker = new AioRequest();

        request.PrepareRead(file, 0, new byte[16]);
        first.Submit([request]);
        first.Wait(1, LongTimeout, new AioRequest[1]);

        // Keep second's only worker busy so the resubmitted request stays queued (cancellable) in second.
        blocker.PrepareRead(file, 0, stall.Memory[..4096]);
        second.Submit([blocker]);
        request.PrepareRead(file, 0, stall.Memory.Slice(4096, 4096));
        second.Submit([request]);

        Assert.Equal(AioCancelResult.NotSubmitted, first.Cancel(request));
        Assert.Equal(0, first.Outstanding);
        Assert.Equal(2, second.Outstanding);
        Assert.Equal(AioRequestState.Submitted, request.State);

        stall.Release();
        var output = new AioRequest[2];
        int seen = 0;
        while (seen < 2)
        {
            seen += second.Wait(1, LongTimeout, output.AsSpan(seen)).Count;
        }
        Assert.Contains(request, output);
        Assert.Equal(0, second.Outstanding);
    }

    [Fact]
    public void SecondDispose_ReturnsOnlyAfterTheFirstHasFinished()
    {
        var context = AioContext.Create(4, new AioContextOptions { Engine = AioEngineKind.ThreadPool });
        SafeFileHandle file = Open(CreatePatternFile("d.bin", 4096));
        UserfaultStall stall = NewStall();
        using var request = new AioRequest();
        request.PrepareRead(file, 0, stall.Memory[..4096]);
        context.Submit([request]);
        Assert.True(stall.WaitUntilFaulted(LongTimeout));

        var firstDispose = new BlockingCall<bool>(() => { context.Dispose(); return true; }, "first Dispose");
        firstDispose.WaitUntilAsleep(LongTimeout);   // waiting for the stalled read
        var secondDispose = new BlockingCall<bool>(() => { context.Dispose(); return true; }, "second Dispose");
        secondDispose.WaitUntilAsleep(LongTimeout);  // waiting for the first
        Assert.Equal(AioRequestState.Submitted, request.State); // the kernel still owns the buffer

        stall.Release();
        Assert.True(firstDispose.Result(LongTimeout) && secondDispose.Result(LongTimeout));
        Assert.Equal(AioRequestState.Completed, request.State);
    }
}
