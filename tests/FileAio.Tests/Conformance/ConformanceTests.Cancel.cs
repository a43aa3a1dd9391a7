using System.Diagnostics;
using System.Collections.Concurrent;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §3: cancel — never both cancelled and reported, never neither; Canceled means the buffer is free.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void Cancel_RequestNotSubmitted_ReturnsNotSubmitted(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        Assert.Equal(AioCancelResult.NotSubmitted, request.Cancel());       // new
        request.PrepareRead(file, 0, new byte[16]);
        Assert.Equal(AioCancelResult.NotSubmitted, request.Cancel());       // prepared
        Assert.Equal(AioRequestState.Prepared, request.State);
        context.Submit([request]);
        WaitForAll(context, 1);
        Assert.Equal(AioCancelResult.NotSubmitted, request.Cancel());       // completed
        Assert.Equal(AioStatus.Success, request.Status);
    });

    [Theory]
    [EachContext]
    public void Cancel_WhileTheKernelIsBusy_EveryRequestEndsExactlyOnce_AndCanceledBuffersStayUntouched(string engine) => Run(engine, () =>
    {
        const int Stuck = 32, Behind = 64;
        AioContext context = NewContext(capacity: Stuck + Behind);
        SafeFileHandle file = OpenPatternFile(Behind * 512);
        FifoHold hold = Hold(Stuck);

        // Requests held in the kernel occupy the engine; the ones behind them are the ones to cancel.
        AioRequest[] stuck = NewRequests(Stuck);
        for (int i = 0; i < Stuck; i++)
        {
            hold.PrepareRead(stuck[i], i);
        }
        SubmitAll(context, stuck);

        AioRequest[] behind = NewRequests(Behind);
        var buffers = new byte[Behind][];
        for (int i = 0; i < Behind; i++)
        {
            buffers[i] = Enumerable.Repeat((byte)0xEE, 512).ToArray();
            behind[i].PrepareRead(file, i * 512, buffers[i], i);
        }
        SubmitAll(context, behind);

        var canceled = new HashSet<AioRequest>();
        foreach (AioRequest request in behind)
        {
            AioCancelResult result = request.Cancel();
            Assert.NotEqual(AioCancelResult.NotSubmitted, result);
            if (result == AioCancelResult.Canceled)
            {
                canceled.Add(request);
                Assert.Equal(AioRequestState.Completed, request.State);
                Assert.Equal(AioStatus.Canceled, request.Status);
                Assert.Equal(AioCancelResult.NotSubmitted, request.Cancel()); // a second cancel finds nothing
            }
        }
        Assert.Equal(Stuck + Behind - canceled.Count, context.Outstanding);

        hold.Release();
        List<AioRequest> reported = WaitForAll(context, Stuck + Behind - canceled.Count);
        Assert.Equal(reported.Count, reported.Distinct().Count());
        Assert.Empty(reported.Intersect(canceled));
        Assert.Equal(0, context.Outstanding);
        Assert.Equal(AioWaitReason.NoRequests, context.Wait(1, TimeSpan.Zero, new AioRequest[1]).Reason);

        for (int i = 0; i < Behind; i++)
        {
            if (canceled.Contains(behind[i]))
            {
                Assert.All(buffers[i], b => Assert.Equal(0xEE, b)); // never written by a cancelled read
            }
            else
            {
                AssertPattern(buffers[i], i * 512);
            }
        }
    });

    [Theory]
    [EachContext]
    public void Cancel_OperationsHeldInTheKernel_AreCanceledWhereTheKernelCan_AndReportedOtherwise(string engine) => Run(engine, () =>
    {
        const int Count = 8;
        AioContext context = NewContext();
        FifoHold hold = Hold(Count);
        AioRequest[] requests = NewRequests(Count);
        for (int i = 0; i < Count; i++)
        {
            hold.PrepareRead(requests[i], i, i);
        }
        SubmitAll(context, requests);

        var canceled = new List<AioRequest>();
        foreach (AioRequest request in requests)
        {
            AioCancelResult result = request.Cancel();
            Assert.True(result is AioCancelResult.Canceled or AioCancelResult.InProgress, $"unexpected {result}");
            if (result == AioCancelResult.Canceled)
            {
                canceled.Add(request);
            }
        }
        Assert.Equal(Count, canceled.Count); // a read waiting on an empty FIFO is one the kernel can stop

        hold.Release();
        // Data flows now: one more read gets it. The kernel never wrote into a cancelled read's buffer.
        ReadOnceMoreFrom(context, hold);
        foreach (AioRequest request in canceled)
        {
            Assert.All(hold.ReadBuffer((int)request.UserState!).ToArray(), b => Assert.Equal(0xEE, b));
        }
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext]
    public void Cancel_HeldReadRightAfterSubmit_EndsCanceledEveryRound_WithoutHanging(string engine) => Run(engine, () =>
    {
        // The cancel lands at every point of the read's way in: still queued, being taken by a worker (or the ring),
        // just parked. Whatever it finds, the read ends cancelled, once, soon, and its buffer stays untouched.
        const int Rounds = 1500;
        AioContext context = NewContext();
        FifoHold hold = Hold(1);
        using var watchdog = new Watchdog(TimeSpan.FromSeconds(60), hold.Release);
        var output = new AioRequest[4];
        using var request = new AioRequest();
        for (int round = 0; round < Rounds && !watchdog.Fired; round++)
        {
            hold.PrepareRead(request, 0);
            Assert.Equal(1, context.Submit([request]));
            Thread.SpinWait(round % 100 * 20);
            AioCancelResult result = request.Cancel();
            Assert.True(result is AioCancelResult.Canceled or AioCancelResult.InProgress, $"round {round}: {result}");
            if (result == AioCancelResult.InProgress)
            {
                AioWaitResult waited = context.Wait(1, Bounded.Bound, output);
                Assert.True(waited.Count == 1, $"round {round}: a read whose cancel was in progress did not end within {Bounded.Bound}.");
                Assert.Same(request, output[0]);
            }
            Assert.Equal(AioStatus.Canceled, request.Status);
            Assert.Equal(0, context.Outstanding);
        }
        Assert.False(watchdog.Fired, "A cancelled read of an empty FIFO hung until the FIFO was fed.");
        Assert.All(hold.ReadBuffer(0).ToArray(), b => Assert.Equal(0xEE, b));
    });

    [Theory]
    [EachContext]
    public void Cancel_ReadThatLostAFifoRaceToAnotherReader_IsStillCancelable(string engine) => Run(engine, () =>
    {
        // Two reads of one FIFO and one byte: both may see it ready, one gets it. The other must go back to waiting
        // where a cancel reaches it — never block inside its read, where nothing could stop it and Dispose would hang.
        const int Rounds = 40;
        for (int round = 0; round < Rounds; round++)
        {
            using var fifo = new TestFifo(PathOf($"race-{round}.fifo"));
            using SafeFileHandle handle = File.OpenHandle(fifo.Path, FileMode.Open, FileAccess.ReadWrite);
            AioContext context = CreateContext(8);
            using var watchdog = new Watchdog(Bounded.Bound, () => fifo.Feed(64));
            using var first = new AioRequest();
            using var second = new AioRequest();
            first.PrepareRead(handle, 0, new byte[16]);
            second.PrepareRead(handle, 0, new byte[16]);
            Assert.Equal(2, context.Submit([first, second]));
            Thread.SpinWait(round * 50);
            Assert.Equal(1, fifo.Feed(1));

            // One of them gets the byte; the other is cancelled (at once, or once its cancel has taken effect).
            var output = new AioRequest[2];
            AioWaitResult got = context.Wait(1, Bounded.Bound, output);
            Assert.True(got.Count >= 1, $"round {round}: neither read got the byte.");
            AioRequest winner = output[0];
            AioRequest loser = ReferenceEquals(winner, first) ? second : first;
            Assert.Equal(1, winner.BytesTransferred);
            if (got.Count == 1)
            {
                AioCancelResult answer = loser.Cancel();
                if (answer == AioCancelResult.InProgress)
                {
                    Assert.Equal(1, context.Wait(1, Bounded.Bound, output).Count);
                    Assert.Same(loser, output[0]);
                }
                else
                {
                    Assert.Equal(AioCancelResult.Canceled, answer);
                }
            }
            Assert.False(watchdog.Fired, $"round {round}: the read that lost the race could not be cancelled; it ended only when the FIFO was fed again.");
            // Canceled by Cancel; or, once Cancel said InProgress, stopped later and reported by Wait as Canceled; or it
            // got a byte of its own.
            Assert.True(loser.Status is AioStatus.Canceled || (got.Count == 2 && loser.Status == AioStatus.Success),
                $"round {round}: the losing read ended {loser.Status} ({loser.ErrorCode}).");
            context.Dispose();
        }
    });

    [Theory]
    [EachContext(AnyThread = true)]
    public void Cancel_RacingTheResubmissionOfTheSameRequest_LeavesEveryLifeEndedOnce(string engine) => Run(engine, () =>
    {
        // A watchdog thread cancels a request while its owner reaps it, prepares it again and resubmits it: a cancel aimed
        // at one life may meet the next one while the engine is taking it in. Each life must still end exactly once, and
        // the engine's bookkeeping stay whole (flushes held behind a write take the barrier path as well).
        const int Lives = 3000;
        AioContext context = NewContext(capacity: 8);
        SafeFileHandle file = OpenPatternFile(64 * 1024, access: FileAccess.ReadWrite);
        using var request = new AioRequest();
        using var writer = new AioRequest();
        var output = new AioRequest[4];
        using var done = new CancellationTokenSource();
        var canceller = Task.Factory.StartNew(() =>
        {
            while (!done.IsCancellationRequested)
            {
                request.Cancel();
                Thread.SpinWait(200); // often, but leaving the submitter room to run
            }
        }, TaskCreationOptions.LongRunning);
        try
        {
            for (int life = 0; life < Lives; life++)
            {
                int pending = 1;
                if (life % 3 == 0)
                {
                    writer.PrepareWrite(file, 4096, new byte[512]);
                    request.PrepareFlush(file);
                    pending = 2;
                    Assert.Equal(2, context.Submit([writer, request]));
                }
                else
                {
                    request.PrepareRead(file, life % 16 * 4096, new byte[4096]);
                    Assert.Equal(1, context.Submit([request]));
                }
                var clock = Stopwatch.StartNew();
                while (context.Outstanding > 0)
                {
                    Assert.True(clock.Elapsed < Bounded.Bound,
                        $"life {life}: {context.Outstanding} outstanding for {Bounded.Bound}; the request is {request.State}, the writer {writer.State}.");
                    context.Wait(1, TimeSpan.FromMilliseconds(1), output); // a life cancelled by the other thread is never reported
                }
                Assert.Equal(AioRequestState.Completed, request.State);
                Assert.True(request.Status is AioStatus.Success or AioStatus.Canceled,
                    $"life {life}: {request.Status} ({request.ErrorCode}), {pending} submitted");
            }
        }
        finally
        {
            done.Cancel();
            canceller.Wait(LongTimeout);
        }
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext(AnyThread = true)]
    [Trait("Category", "Stress")]
    public void Cancel_RacingCompletion_NeverBothCanceledAndReported_NeverNeither(string engine) => Run(engine, () =>
    {
        const int Total = 20_000, Batch = 50;
        AioContext context = NewContext(capacity: 512);
        SafeFileHandle file = OpenPatternFile(256 * 512);
        var reported = new ConcurrentDictionary<AioRequest, byte>(ReferenceEqualityComparer.Instance);
        var canceled = new ConcurrentDictionary<AioRequest, byte>(ReferenceEqualityComparer.Instance);
        var inFlight = new BlockingCollection<AioRequest>();
        int submitted = 0;
        using var done = new CancellationTokenSource();

        var canceller = Task.Factory.StartNew(() =>
        {
            foreach (AioRequest request in inFlight.GetConsumingEnumerable())
            {
                if (request.Cancel() == AioCancelResult.Canceled)
                {
                    Assert.True(canceled.TryAdd(request, 0), "Cancel answered Canceled twice for one request.");
                    Assert.Equal(AioStatus.Canceled, request.Status);
                }
            }
        }, TaskCreationOptions.LongRunning);

        var waiter = Task.Factory.StartNew(() =>
        {
            var output = new AioRequest[64];
            while (!done.IsCancellationRequested || context.Outstanding > 0)
            {
                AioWaitResult result = context.Wait(1, TimeSpan.FromMilliseconds(20), output);
                for (int i = 0; i < result.Count; i++)
                {
                    Assert.True(reported.TryAdd(output[i], 0), "Wait reported a request twice.");
                    Assert.NotEqual(AioStatus.Canceled, output[i].Status);
                }
            }
        }, TaskCreationOptions.LongRunning);

        var random = new Random(7);
        while (submitted < Total)
        {
            var batch = new AioRequest[Batch];
            for (int i = 0; i < Batch; i++)
            {
                batch[i] = new AioRequest();
                batch[i].PrepareRead(file, random.Next(256) * 512L, new byte[512]);
            }
            SubmitAll(context, batch);
            submitted += Batch;
            foreach (AioRequest request in batch)
            {
                if (random.Next(2) == 0)
                {
                    inFlight.Add(request);
                }
            }
            SpinWait.SpinUntil(() => context.Outstanding < 400);
        }
        inFlight.CompleteAdding();
        canceller.Wait(LongTimeout);
        done.Cancel();
        Assert.True(waiter.Wait(LongTimeout));

        Assert.Empty(reported.Keys.Intersect(canceled.Keys));
        Assert.Equal(Total, reported.Count + canceled.Count);
        Assert.Equal(0, context.Outstanding);
    });
}
