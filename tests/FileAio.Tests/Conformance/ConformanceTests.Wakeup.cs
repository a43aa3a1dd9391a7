using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §3: one Wakeup is consumed by exactly one Wait, never lost, never doubled.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void Wakeup_BeforeWait_IsConsumedByExactlyOneWait(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext(waitWithoutPendingRequests: true);
        var output = new AioRequest[1];
        context.Wakeup();
        Assert.Equal(new AioWaitResult(0, AioWaitReason.Interrupted), context.Wait(1, LongTimeout, output));
        Assert.Equal(new AioWaitResult(0, AioWaitReason.TimedOut), context.Wait(1, TimeSpan.FromMilliseconds(20), output));
    });

    [Theory]
    [EachContext]
    public void Wakeup_WithNothingOutstanding_WinsOverNoRequests_Once(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        var output = new AioRequest[1];
        context.Wakeup();
        Assert.Equal(AioWaitReason.Interrupted, context.Wait(1, TimeSpan.Zero, output).Reason);
        Assert.Equal(AioWaitReason.NoRequests, context.Wait(1, TimeSpan.Zero, output).Reason);
    });

    [Theory]
    [EachContext]
    public void Wakeup_IsReportedByTheNextWait_EvenWhenCompletionsFillItsSpan(string engine) => Run(engine, () =>
    {
        // The completions ahead of the wakeup's own signal fill the span (or the Wait times out, or its signal is still
        // on its way through the kernel, as an owned ring's eventfd read is): the Wait must still say Interrupted.
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        var output = new AioRequest[1];
        for (int round = 0; round < 20; round++)
        {
            AioRequest read = PreparedReads(file, 1)[0];
            SubmitAll(context, [read]);
            if (round % 2 == 1)
            {
                Thread.Sleep(2); // let the read finish in the kernel before the wakeup's signal
            }
            context.Wakeup();
            AioWaitResult first = context.Wait(1, LongTimeout, output);
            Assert.True(first.Reason == AioWaitReason.Interrupted, $"round {round}: the wakeup was not reported ({first}).");
            Assert.Same(read, first.Count == 1 ? output[0] : WaitForAll(context, 1)[0]);
        }

        FifoHold hold = Hold();
        AioRequest held = SubmitHeldRead(context, hold);
        for (int round = 0; round < 20; round++)
        {
            context.Wakeup();
            Assert.Equal(new AioWaitResult(0, AioWaitReason.Interrupted), context.Wait(1, TimeSpan.Zero, output));
        }
        hold.Release();
        Assert.Same(held, WaitForAll(context, 1)[0]);
    });

    [Theory]
    [EachContext(AnyThread = true)]
    public void Wakeup_FromAnotherThread_InterruptsABlockedWait_WhichKeepsItsRequests(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(context, hold);

        var waiter = new BlockingCall<AioWaitResult>(() => context.Wait(1, LongTimeout, new AioRequest[1]));
        waiter.WaitUntilAsleep(LongTimeout);
        context.Wakeup();
        Assert.Equal(new AioWaitResult(0, AioWaitReason.Interrupted), waiter.Result(LongTimeout));
        Assert.Equal(AioRequestState.Submitted, request.State);
        Assert.Equal(1, context.Outstanding);

        hold.Release();
        Assert.Same(request, WaitForAll(context, 1)[0]);
    });

    [Theory]
    [EachContext]
    [Trait("Category", "Stress")]
    public void Wakeup_RacingAWaiterFor10000Rounds_IsConsumedExactlyOncePerRound(string engine) => Run(engine, () =>
    {
        const int Rounds = 10_000;
        AioContext context = NewContext(waitWithoutPendingRequests: true);
        using var waiterReady = new SemaphoreSlim(0);
        int interrupted = 0;

        // The waiter announces each round and then waits; the waker wakes after a random, tiny delay, so the Wakeup
        // lands sometimes before the Wait blocks and sometimes while it blocks. Both must give exactly one Interrupted.
        var waker = Task.Factory.StartNew(() =>
        {
            var random = new Random(12345);
            for (int i = 0; i < Rounds; i++)
            {
                Assert.True(waiterReady.Wait(LongTimeout));
                for (int spin = random.Next(200); spin > 0; spin--)
                {
                    Thread.SpinWait(1);
                }
                context.Wakeup();
            }
        }, TaskCreationOptions.LongRunning);

        var output = new AioRequest[1];
        for (int i = 0; i < Rounds; i++)
        {
            waiterReady.Release();
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            Assert.Equal(AioWaitReason.Interrupted, result.Reason); // a lost wakeup would time out here
            interrupted++;
        }
        waker.Wait(LongTimeout);

        Assert.Equal(Rounds, interrupted);
        // Every wakeup was consumed: a doubled one would show up now.
        Assert.Equal(AioWaitReason.TimedOut, context.Wait(1, TimeSpan.FromMilliseconds(20), output).Reason);
    });
}
