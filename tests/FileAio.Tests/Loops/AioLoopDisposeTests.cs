using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>Disposing a host whose loops have work queued and operations in flight, and disposing files on a loop.</summary>
public sealed class AioLoopDisposeTests : LoopTest
{
    [Theory, EachHost]
    public async Task HostDispose_CancelsOperationsInFlight_AndLetsTheirCodeFinishOnTheLoop(string host)
    {
        Use(host);
        AioEngineHost engines = NewHost(threads: 1);
        AioLoop loop = engines.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(engines))));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<(string, int, int)> held = loop.RunAsync(async () =>
        {
            ValueTask<int> read = fifo.File.ReadAsync(new byte[16], 0); // no token: only the Dispose can end it
            started.SetResult();
            string outcome;
            try
            {
                await read;
                outcome = "read";
            }
            catch (OperationCanceledException)
            {
                outcome = "cancelled";
            }
            int resumedOn = Environment.CurrentManagedThreadId;
            // Code that goes on after the cancellation: its next operation is cancelled at once, on the loop.
            int afterOn = -1;
            try
            {
                await fifo.File.ReadAsync(new byte[16], 0);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                afterOn = Environment.CurrentManagedThreadId;
            }
            return (outcome, resumedOn, afterOn);
        });
        await Bounded(started.Task);
        await Task.Delay(30); // the read waits in the kernel

        // Work queued behind it, some of it blocking the loop while the Dispose begins.
        using var gate = new ManualResetEventSlim();
        Task blocker = loop.RunAsync(() =>
        {
            gate.Wait(LongTimeout);
            return Task.CompletedTask;
        });
        int ranAfter = 0;
        Task[] queued = Enumerable.Range(0, 100).Select(_ => loop.RunAsync(async () =>
        {
            await Task.Yield(); // comes back through the loop's queue during the stop
            Interlocked.Increment(ref ranAfter);
        })).ToArray();

        Task disposing = Task.Run(engines.Dispose);
        await Task.Delay(20);
        gate.Set();
        await Bounded(disposing);

        Assert.Equal(("cancelled", loopThread, loopThread), await Bounded(held));
        await Bounded(blocker);
        await Bounded(Task.WhenAll(queued));
        Assert.Equal(100, ranAfter);
    }

    [Theory, EachHost]
    public async Task WorkPostedAfterTheLoopEnded_RunsOnThePool_SoNothingWaitsForEver(string host)
    {
        Use(host);
        AioEngineHost engines = NewHost(threads: 1);
        AioLoop loop = engines.Loops[0];
        SynchronizationContext context = loop.SynchronizationContext;
        TaskScheduler scheduler = loop.Scheduler;
        engines.Dispose();

        var posted = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Post(_ => posted.SetResult(loop.IsOnLoopThread), null);
        Assert.False(await Bounded(posted.Task));
        int result = await Bounded(Task.Factory.StartNew(() => 42, CancellationToken.None, TaskCreationOptions.None, scheduler));
        Assert.Equal(42, result);
    }

    [Theory, EachHost]
    public async Task FileDispose_OnItsLoopWithOperationsInFlight_IsRefused_AndDisposeAsyncFinishesIt(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));

        (string refused, bool cancelled) = await Bounded(loop.RunAsync(async () =>
        {
            ValueTask<int> read = fifo.File.ReadAsync(new byte[16], 0);
            await Task.Delay(20);
            var e = Assert.Throws<InvalidOperationException>(fifo.File.Dispose); // waiting here would stall the loop for ever
            await fifo.File.DisposeAsync();                                      // the loop cancels the read meanwhile
            bool wasCancelled = false;
            try
            {
                await read;
            }
            catch (OperationCanceledException)
            {
                wasCancelled = true;
            }
            return (e.Message, wasCancelled);
        }));

        Assert.Contains("DisposeAsync", refused);
        Assert.True(cancelled);
        Assert.True(fifo.File.Handle.IsClosed);
    }

    // Work posted after the loop ended still has the loop's promises: one item at a time (MaximumConcurrencyLevel 1),
    // in the order posted — code written for the loop keeps relying on them while its host goes away.
    [Theory, EachHost]
    public async Task WorkPostedAfterTheLoopEnded_StillRunsOneAtATime_InOrder(string host)
    {
        Use(host);
        AioEngineHost engines = NewHost(threads: 1);
        SynchronizationContext context = engines.Loops[0].SynchronizationContext;
        engines.Dispose();
        int running = 0, overlaps = 0;
        var order = new System.Collections.Concurrent.ConcurrentQueue<int>();
        Task[] done = Enumerable.Range(0, 64).Select(i =>
        {
            var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            context.Post(_ =>
            {
                if (Interlocked.Increment(ref running) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }
                order.Enqueue(i);
                Thread.SpinWait(20_000);
                Interlocked.Decrement(ref running);
                ran.SetResult();
            }, null);
            return ran.Task;
        }).ToArray();
        await Bounded(Task.WhenAll(done));
        Assert.Equal(0, overlaps);
        Assert.Equal(Enumerable.Range(0, 64), order);
    }
}
