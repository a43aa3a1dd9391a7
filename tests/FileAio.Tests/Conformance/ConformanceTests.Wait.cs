using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §3: Wait for at least N completions with a timeout; completions come with every reason; any span size.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void Wait_InvalidArguments_ThrowArgumentOutOfRange(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        var output = new AioRequest[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => context.Wait(1, TimeSpan.Zero, Span<AioRequest>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.Wait(5, TimeSpan.Zero, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.Wait(-1, TimeSpan.Zero, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.Wait(1, TimeSpan.FromMilliseconds(-2), output));
    });

    [Theory]
    [EachContext]
    public void Wait_NothingOutstanding_ReturnsNoRequestsAtOnce(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        AioWaitResult result = context.Wait(1, Timeout.InfiniteTimeSpan, new AioRequest[1]);
        Assert.Equal(new AioWaitResult(0, AioWaitReason.NoRequests), result);
    });

    [Theory]
    [EachContext]
    public void Wait_NothingOutstandingWithTheFlag_BlocksUntilTheTimeout(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext(waitWithoutPendingRequests: true);
        AioWaitResult result = context.Wait(1, TimeSpan.FromMilliseconds(50), new AioRequest[1]);
        Assert.Equal(new AioWaitResult(0, AioWaitReason.TimedOut), result);
    });

    [Theory]
    [EachContext(AnyThread = true)]
    public void Wait_WithTheFlag_ReturnsARequestSubmittedWhileItBlocks(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext(waitWithoutPendingRequests: true);
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        request.PrepareRead(file, 0, new byte[100]);
        var output = new AioRequest[1];

        var waiter = new BlockingCall<AioWaitResult>(() => context.Wait(1, LongTimeout, output));
        waiter.WaitUntilAsleep(LongTimeout);
        context.Submit([request]);

        Assert.Equal(new AioWaitResult(1, AioWaitReason.Completed), waiter.Result(LongTimeout));
        Assert.Same(request, output[0]);
    });

    [Theory]
    [EachContext]
    public void Wait_MinGreaterThanOne_CollectsAtLeastThatMany(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 512);
        AioRequest[] batch = PreparedReads(file, 8);
        SubmitAll(context, batch);

        var output = new AioRequest[8];
        int total = 0;
        while (total < 8)
        {
            int min = Math.Min(3, 8 - total);
            AioWaitResult result = context.Wait(min, LongTimeout, output.AsSpan(total));
            Assert.Equal(AioWaitReason.Completed, result.Reason);
            Assert.True(result.Count >= min);
            total += result.Count;
        }
        Assert.Equal(batch.ToHashSet(), output.ToHashSet());
    });

    [Theory]
    [EachContext]
    public void Wait_MinZero_MeansOne(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        AioRequest[] batch = PreparedReads(file, 1);
        context.Submit(batch);
        AioWaitResult result = context.Wait(0, LongTimeout, new AioRequest[4]);
        Assert.Equal(new AioWaitResult(1, AioWaitReason.Completed), result);
    });

    [Theory]
    [EachContext]
    public void Wait_ZeroTimeout_PollsWithoutBlocking(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(context, hold);

        AioWaitResult result = context.Wait(1, TimeSpan.Zero, new AioRequest[1]);
        Assert.Equal(new AioWaitResult(0, AioWaitReason.TimedOut), result);
        Assert.Equal(AioRequestState.Submitted, request.State);

        hold.Release();
        WaitForAll(context, 1);
    });

    [Theory]
    [EachContext]
    public void Wait_TimeoutReached_ReturnsTheCompletionsItHas(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 512);
        FifoHold hold = Hold();
        AioRequest[] batch = PreparedReads(file, 3);
        hold.PrepareRead(batch[2], 0, "held");
        SubmitAll(context, batch);

        var output = new AioRequest[3];
        AioWaitResult result = context.Wait(3, TimeSpan.FromMilliseconds(300), output);
        Assert.Equal(AioWaitReason.TimedOut, result.Reason);
        Assert.Equal(2, result.Count);
        Assert.Equal(new HashSet<AioRequest> { batch[0], batch[1] }, output[..2].ToHashSet());
        Assert.All(output[..2], r => Assert.Equal(AioRequestState.Completed, r.State));
        Assert.Equal(1, context.Outstanding);

        hold.Release();
        Assert.Same(batch[2], WaitForAll(context, 1)[0]);
    });

    [Theory]
    [EachContext]
    public void Wait_BatchFarAbove64_CollectsEverythingInOneSpan(string engine) => Run(engine, () =>
    {
        const int Count = 1000;
        AioContext context = NewContext(capacity: Count);
        SafeFileHandle file = OpenPatternFile(Count * 512);
        AioRequest[] batch = PreparedReads(file, Count);
        Assert.Equal(Count, context.Submit(batch));

        var output = new AioRequest[Count];
        int total = 0;
        while (total < Count)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output.AsSpan(total));
            total += result.Count;
        }
        Assert.Equal(Count, output.Distinct().Count());
        foreach (AioRequest request in output)
        {
            Assert.Equal(512, request.BytesTransferred);
        }
    });

    [Theory]
    [EachContext]
    public void Wait_WithASmallSpan_LosesNothing(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext(capacity: 200);
        SafeFileHandle file = OpenPatternFile(200 * 512);
        AioRequest[] batch = PreparedReads(file, 200);
        SubmitAll(context, batch); // cached 512-byte reads: most have finished before Wait asks, more than fit

        List<AioRequest> reported = WaitForAll(context, 200, spanLength: 3);
        Assert.Equal(200, reported.Distinct().Count());
        Assert.Equal(0, context.Outstanding);
        Assert.Equal(new AioWaitResult(0, AioWaitReason.NoRequests), context.Wait(1, TimeSpan.Zero, new AioRequest[3]));
    });

    [Theory]
    [EachContext(AnyThread = true)]
    public void Wait_TwoThreadsAtOnce_TheSecondThrows(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(context, hold);

        var first = new BlockingCall<AioWaitResult>(() => context.Wait(1, LongTimeout, new AioRequest[1]));
        first.WaitUntilAsleep(LongTimeout);

        var e = Assert.Throws<InvalidOperationException>(() => context.Wait(1, TimeSpan.Zero, new AioRequest[1]));
        Assert.Contains("Another thread", e.Message);

        hold.Release();
        Assert.Equal(new AioWaitResult(1, AioWaitReason.Completed), first.Result(LongTimeout));
    });

    [Theory]
    [EachContext]
    public void Read_PastEndOfFile_IsSuccessWithZeroBytes(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(1000);
        using var request = new AioRequest();
        request.PrepareRead(file, 5000, new byte[512]);
        context.Submit([request]);
        WaitForAll(context, 1);
        Assert.Equal(AioStatus.Success, request.Status);
        Assert.Equal(0, request.BytesTransferred);
    });

    [Theory]
    [EachContext]
    public void Read_AcrossEndOfFile_IsAShortSuccess(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(1000);
        using var plain = new AioRequest();
        using var vectored = new AioRequest();
        var buffer = new byte[512];
        plain.PrepareRead(file, 800, buffer);
        vectored.PrepareRead(file, 900, new Memory<byte>[] { new byte[64], new byte[64] });
        SubmitAll(context, [plain, vectored]);
        WaitForAll(context, 2);

        Assert.Equal(AioStatus.Success, plain.Status);
        Assert.Equal(200, plain.BytesTransferred);
        AssertPattern(buffer.AsSpan(0, 200), 800);
        Assert.Equal(AioStatus.Success, vectored.Status);
        Assert.Equal(100, vectored.BytesTransferred);
    });

    [Theory]
    [EachContext]
    public void VectoredWriteThenRead_RoundTripsInBufferOrder(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = Open(PathOf("vectored.bin"), FileMode.CreateNew);
        byte[][] parts = [[1, 2, 3], [4, 5], [6, 7, 8, 9]];
        using var write = new AioRequest();
        write.PrepareWrite(file, 10, parts.Select(p => (ReadOnlyMemory<byte>)p).ToArray());
        context.Submit([write]);
        WaitForAll(context, 1);
        Assert.Equal(9, write.BytesTransferred);

        var a = new byte[4];
        var b = new byte[5];
        using var read = new AioRequest();
        read.PrepareRead(file, 10, new Memory<byte>[] { a, b });
        context.Submit([read]);
        WaitForAll(context, 1);
        Assert.Equal(9, read.BytesTransferred);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, a);
        Assert.Equal(new byte[] { 5, 6, 7, 8, 9 }, b);
    });
}
