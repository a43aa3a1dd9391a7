using System.Collections.Concurrent;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §2: validate first, then submit; partial accept when full; any thread may submit.
public sealed partial class ConformanceTests
{
    private AioRequest[] PreparedReads(SafeFileHandle file, int count, int size = 512)
    {
        AioRequest[] requests = NewRequests(count);
        for (int i = 0; i < count; i++)
        {
            requests[i].PrepareRead(file, (long)i * size, new byte[size], i);
        }
        return requests;
    }

    private static void AssertAllPrepared(AioRequest?[] requests)
    {
        foreach (AioRequest? request in requests)
        {
            if (request is not null)
            {
                Assert.Equal(AioRequestState.Prepared, request.State);
            }
        }
    }

    [Theory]
    [EachContext]
    public void Submit_EmptySpan_ThrowsArgumentException(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        Assert.Throws<ArgumentException>(() => context.Submit(ReadOnlySpan<AioRequest>.Empty));
    });

    [Theory]
    [EachContext]
    public void Submit_BatchWithNullInTheMiddle_ChangesNothing(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 512);
        AioRequest?[] batch = PreparedReads(file, 8);
        batch[4] = null;

        var e = Assert.Throws<ArgumentNullException>(() => context.Submit(batch!));
        Assert.Contains("requests[4]", e.Message);
        AssertAllPrepared(batch);
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext]
    public void Submit_BatchWithUnpreparedRequestInTheMiddle_ChangesNothing(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 512);
        AioRequest[] batch = PreparedReads(file, 8);
        batch[5] = Own(new AioRequest()); // Completed, never prepared

        var e = Assert.Throws<InvalidOperationException>(() => context.Submit(batch));
        Assert.Contains("requests[5]", e.Message);
        AssertAllPrepared(batch[..5]);
        AssertAllPrepared(batch[6..]);
        Assert.Equal(AioRequestState.Completed, batch[5].State);
        Assert.Equal(0, context.Outstanding);

        // Nothing was lost: the valid ones still go through.
        batch[5].PrepareRead(file, 0, new byte[512]);
        SubmitAll(context, batch);
        Assert.Equal(8, WaitForAll(context, 8).Distinct().Count());
    });

    [Theory]
    [EachContext]
    public void Submit_BatchWithDisposedRequestInTheMiddle_ChangesNothing(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 512);
        AioRequest[] batch = PreparedReads(file, 8);
        batch[3].Dispose();

        Assert.Throws<ObjectDisposedException>(() => context.Submit(batch));
        AssertAllPrepared(batch[..3]);
        AssertAllPrepared(batch[4..]);
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext]
    public void Submit_SameRequestTwiceInOneBatch_ChangesNothing(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 512);
        AioRequest[] batch = PreparedReads(file, 6);
        batch[5] = batch[1];

        var e = Assert.Throws<InvalidOperationException>(() => context.Submit(batch));
        Assert.Contains("twice", e.Message);
        AssertAllPrepared(batch);
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext]
    public void Submit_RequestAlreadyInFlightOnAnotherContext_Throws(string engine) => Run(engine, () =>
    {
        AioContext first = NewContext();
        AioContext second = NewContext();
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(first, hold);

        Assert.Throws<InvalidOperationException>(() => second.Submit([request]));
        Assert.Equal(0, second.Outstanding);
        Assert.Equal(1, first.Outstanding);

        hold.Release();
        WaitForAll(first, 1);
    });

    [Theory]
    [EachContext]
    public void Submit_OverCapacity_AcceptsWhatFits_AndTheRestStayNotSubmitted(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext(capacity: 4);
        SafeFileHandle file = OpenPatternFile(64 * 512);
        FifoHold hold = Hold(4);
        AioRequest[] batch = NewRequests(10);
        for (int i = 0; i < batch.Length; i++)
        {
            // The first four are held in the kernel, so the context stays full while we look.
            if (i < 4)
            {
                hold.PrepareRead(batch[i], i, i);
            }
            else
            {
                batch[i].PrepareRead(file, i * 512, new byte[512], i);
            }
        }

        Assert.Equal(4, context.Submit(batch));
        Assert.Equal(4, context.Outstanding);
        Assert.All(batch[..4], r => Assert.Equal(AioRequestState.Submitted, r.State));
        Assert.All(batch[4..], r => Assert.Equal(AioStatus.NotSubmitted, r.Status));

        Assert.Equal(0, context.Submit(batch[4..])); // still full: nothing accepted, nothing changed
        Assert.All(batch[4..], r => Assert.Equal(AioRequestState.Prepared, r.State));

        hold.Release();
        WaitForAll(context, 4);
        Assert.Equal(4, context.Submit(batch[4..]));      // room again: the first four of the rest go
        Assert.All(batch[8..], r => Assert.Equal(AioRequestState.Prepared, r.State));
        List<AioRequest> rest = WaitForAll(context, 4);
        Assert.Equal(2, context.Submit(batch[8..]));
        rest.AddRange(WaitForAll(context, 2));
        Assert.Equal(batch[4..].ToHashSet(), rest.ToHashSet());
        Assert.All(batch[4..], r => Assert.Equal(512, r.BytesTransferred));
    });

    [Theory]
    [EachContext(AnyThread = true)]
    public void Submit_FromSeveralThreadsWhileOneWaits_EveryRequestIsReportedOnce(string engine) => Run(engine, () =>
    {
        const int Threads = 4, PerThread = 2000, Size = 256;
        AioContext context = NewContext(capacity: AioContext.UnlimitedCapacity);
        SafeFileHandle file = OpenPatternFile(1024 * Size);
        var reported = new ConcurrentDictionary<AioRequest, int>(ReferenceEqualityComparer.Instance);
        int total = Threads * PerThread;

        var waiter = Task.Factory.StartNew(() =>
        {
            var output = new AioRequest[100];
            int seen = 0;
            while (seen < total)
            {
                AioWaitResult result = context.Wait(1, LongTimeout, output);
                Assert.NotEqual(AioWaitReason.TimedOut, result.Reason);
                for (int i = 0; i < result.Count; i++)
                {
                    Assert.True(reported.TryAdd(output[i], 1), "A request was reported twice.");
                    Assert.Equal(Size, output[i].BytesTransferred);
                    seen++;
                }
            }
        }, TaskCreationOptions.LongRunning);

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int i = 0; i < PerThread; i += 10)
            {
                var batch = new AioRequest[10];
                for (int j = 0; j < batch.Length; j++)
                {
                    batch[j] = new AioRequest();
                    batch[j].PrepareRead(file, (i + j) % 1024 * (long)Size, new byte[Size], t * PerThread + i + j);
                }
                SubmitAll(context, batch);
            }
        });

        Assert.True(waiter.Wait(LongTimeout), "The waiter did not see every completion.");
        Assert.Equal(total, reported.Count);
        Assert.Equal(0, context.Outstanding);
    });
}
