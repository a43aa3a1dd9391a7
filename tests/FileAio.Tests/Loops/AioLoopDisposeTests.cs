using System.Runtime.CompilerServices;
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
            // Code that goes on after the cancellation: its next operation, begun on a stopping loop, is cancelled at
            // once, and resumes it on the thread pool (were it resumed on the loop, code that retried would never let
            // the stop end: HostDispose_WhileLoopCodeRetriesItsCancelledRead_Returns).
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

        (string outcome, int resumedOn, int afterOn) = await Bounded(held);
        Assert.Equal(("cancelled", loopThread), (outcome, resumedOn));
        Assert.NotEqual(-1, afterOn);
        Assert.NotEqual(loopThread, afterOn);
        await Bounded(blocker);
        await Bounded(Task.WhenAll(queued));
        Assert.Equal(100, ranAfter);
    }

    // Loop code that answers a cancelled read by reading again (a timeout-and-retry loop) while its host is disposed.
    // The first cancellation resumes it on the loop; the read it begins there, on a stopping loop, is cancelled at once
    // and resumes it on the thread pool, so the stop ends. (Before, each retry went into the backlog the stop was
    // draining, was cancelled there and resumed the code on the loop again: Dispose never returned.)
    [Theory, EachHost]
    public async Task HostDispose_WhileLoopCodeRetriesItsCancelledRead_Returns(string host)
    {
        Use(host);
        AioEngineHost engines = NewHost(threads: 1);
        AioLoop loop = engines.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(engines))));
        var stop = new StrongBox<int>();
        long retries = 0;
        int firstCancelOn = -1, secondCancelOn = -1;

        Task flow = loop.RunAsync(async () =>
        {
            while (Volatile.Read(ref stop.Value) == 0)
            {
                try
                {
                    await fifo.File.ReadAsync(new byte[8], 0);
                    return;
                }
                catch (OperationCanceledException)
                {
                    long retry = Interlocked.Increment(ref retries); // a timeout, say: try again
                    if (retry == 1)
                    {
                        Volatile.Write(ref firstCancelOn, Environment.CurrentManagedThreadId);
                    }
                    else if (retry == 2)
                    {
                        Volatile.Write(ref secondCancelOn, Environment.CurrentManagedThreadId);
                    }
                }
            }
        });
        for (int i = 0; i < 5000 && fifo.File.OperationsInFlight < 1; i++)
        {
            await Task.Delay(1);
        }
        Assert.Equal(1, fifo.File.OperationsInFlight);
        await Task.Delay(30); // the read waits in the kernel

        Task dispose = Task.Run(engines.Dispose);
        bool returned = await Infrastructure.Bounded.EndsWithin(dispose, Infrastructure.Bounded.Bound);
        Volatile.Write(ref stop.Value, 1); // lets the flow go, so that the test ends either way
        await Bounded(dispose);
        await Bounded(flow);

        Assert.True(returned, $"AioEngineHost.Dispose did not return within {Infrastructure.Bounded.Bound.TotalSeconds:0} s; the flow retried {Interlocked.Read(ref retries)} times meanwhile.");
        Assert.Equal(loopThread, Volatile.Read(ref firstCancelOn));
        Assert.NotEqual(-1, Volatile.Read(ref secondCancelOn));
        Assert.NotEqual(loopThread, Volatile.Read(ref secondCancelOn));
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

    // The refused Dispose (a `using` on the loop whose exception ends the flow) began the close: once the read it
    // cancelled has ended, the handle is closed without a DisposeAsync — never before, while the kernel may use it.
    [Theory, EachHost]
    public async Task FileDispose_RefusedOnItsLoop_StillClosesTheHandle_OnceItsOperationsEnd(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));

        bool openWhileInFlight = await Bounded(loop.RunAsync(async () =>
        {
            ValueTask<int> read = fifo.File.ReadAsync(new byte[16], 0);
            await Task.Delay(20);
            Assert.Throws<InvalidOperationException>(fifo.File.Dispose);
            bool open = !fifo.File.Handle.IsClosed; // the read is this loop's, which runs this code: still in flight
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
            return open;
        }));
        var waited = System.Diagnostics.Stopwatch.StartNew(); // the close runs on the pool once the read has ended
        while (!fifo.File.Handle.IsClosed && waited.Elapsed < Infrastructure.Bounded.Bound)
        {
            await Task.Delay(1);
        }

        Assert.True(openWhileInFlight);
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
