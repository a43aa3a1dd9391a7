using System.Diagnostics;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>The loop as a scheduler: where work runs, in which order, what its exceptions and cancellations do, and
/// work posted from many threads.</summary>
public sealed class AioLoopSchedulingTests : LoopTest
{
    [Theory, EachHost]
    public async Task RunAsync_RunsOnTheLoopThread_AndEveryAwaitComesBackThere(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[1];
        int loopThread = await Bounded(ThreadIdOf(loop));
        Assert.NotEqual(Environment.CurrentManagedThreadId, loopThread);

        var seen = await Bounded(loop.RunAsync(async () =>
        {
            var threads = new List<int> { Environment.CurrentManagedThreadId };
            Assert.Same(loop, AioLoop.Current);
            Assert.True(loop.IsOnLoopThread);
            Assert.Same(loop.Scheduler, TaskScheduler.Current);
            Assert.Same(loop.SynchronizationContext, SynchronizationContext.Current);
            await Task.Yield();
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Delay(5); // completes on a timer thread: the continuation is posted back to the loop
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Run(() => { }); // completes on a pool thread
            threads.Add(Environment.CurrentManagedThreadId);
            return (threads, Thread.CurrentThread.Name);
        }));

        Assert.All(seen.threads, t => Assert.Equal(loopThread, t));
        Assert.Equal("FileAio engine 1", seen.Name);
        Assert.Equal("FileAio engine 1", loop.ToString());
        Assert.Null(AioLoop.Current);
        Assert.False(loop.IsOnLoopThread);
    }

    [Theory, EachHost]
    public async Task Work_RunsOneAtATime_InTheOrderItWasQueued(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        const int Count = 2000;
        var order = new List<int>(); // no lock: the loop runs one piece of work at a time
        int running = 0, overlaps = 0;
        var tasks = new Task[Count];
        for (int i = 0; i < Count; i++)
        {
            int index = i;
            tasks[i] = loop.RunAsync(() =>
            {
                if (Interlocked.Increment(ref running) != 1)
                {
                    overlaps++;
                }
                order.Add(index);
                Interlocked.Decrement(ref running);
                return Task.CompletedTask;
            });
        }
        await Bounded(Task.WhenAll(tasks));

        Assert.Equal(0, overlaps);
        Assert.Equal(Enumerable.Range(0, Count), order);
        Assert.Equal(1, loop.Scheduler.MaximumConcurrencyLevel);
    }

    [Theory, EachHost]
    public async Task WorkQueuedFromTheLoop_RunsAfterTheCurrentWork_AndSendOnTheLoopRunsInline(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        var steps = await Bounded(loop.RunAsync(async () =>
        {
            var log = new List<string>();
            Task inner = loop.RunAsync(() =>
            {
                log.Add("inner");
                return Task.CompletedTask;
            });
            log.Add("outer, inner queued");              // queued work never runs inside the work that queued it
            loop.SynchronizationContext.Send(_ => log.Add("sent"), null); // inline: waiting for the loop on the loop could never end
            await inner;
            log.Add("outer, after inner");
            // Reentrant: work on the loop starting more work on the same loop, to any depth, and awaiting it.
            int depth = await Nest(loop, 20);
            log.Add($"nested {depth}");
            return log;
        }));

        Assert.Equal(["outer, inner queued", "sent", "inner", "outer, after inner", "nested 20"], steps);

        static async Task<int> Nest(AioLoop loop, int levels) =>
            levels == 0 ? 0 : 1 + await loop.RunAsync(() => Nest(loop, levels - 1));
    }

    [Theory, EachHost]
    public async Task SendFromAnotherThread_RunsOnTheLoop_AndRethrowsToTheSender(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        int ranOn = 0;
        await Task.Run(() => loop.SynchronizationContext.Send(_ => ranOn = Environment.CurrentManagedThreadId, null)).WaitAsync(LongTimeout);
        Assert.Equal(loopThread, ranOn);
        var e = await Assert.ThrowsAsync<FormatException>(() =>
            Task.Run(() => loop.SynchronizationContext.Send(_ => throw new FormatException("sent"), null)).WaitAsync(LongTimeout));
        Assert.Equal("sent", e.Message);
    }

    [Theory, EachHost]
    public async Task Exceptions_SurfaceThroughTheReturnedTask_AndTheLoopThreadGoesOn(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));

        var before = await Assert.ThrowsAsync<InvalidDataException>(() =>
            Bounded(loop.RunAsync(() => throw new InvalidDataException("before any await"))));
        var after = await Assert.ThrowsAsync<InvalidDataException>(() => Bounded(loop.RunAsync(async () =>
        {
            await Task.Yield();
            throw new InvalidDataException("after an await");
        })));
        var withResult = await Assert.ThrowsAsync<InvalidDataException>(() =>
            Bounded(loop.RunAsync<int>(() => throw new InvalidDataException("with a result"))));

        Assert.Equal("before any await", before.Message);
        Assert.Equal("after an await", after.Message);
        Assert.Equal("with a result", withResult.Message);
        Assert.Equal(loopThread, await Bounded(ThreadIdOf(loop))); // the same thread still serves the loop
    }

    [Theory, EachHost]
    public async Task Cancellation_BeforeTheWorkStarts_CancelsTheTask_AndTheWorkNeverRuns(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        bool ran = false;
        Task task = loop.RunAsync(() =>
        {
            ran = true;
            return Task.CompletedTask;
        }, cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(task));
        Assert.True(task.IsCanceled);

        // Work queued behind a blocked loop, cancelled while it waits, never runs either.
        using var gate = new ManualResetEventSlim();
        Task blocker = loop.RunAsync(() =>
        {
            gate.Wait(LongTimeout);
            return Task.CompletedTask;
        });
        using var later = new CancellationTokenSource();
        Task queued = loop.RunAsync(() =>
        {
            ran = true;
            return Task.CompletedTask;
        }, later.Token);
        later.Cancel();
        gate.Set();
        await Bounded(blocker);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(queued));
        Assert.False(ran);
    }

    [Theory, EachHost]
    public async Task Cancellation_ThatTheWorkObserves_EndsTheTaskCancelled(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        using var cts = new CancellationTokenSource();
        Task task = loop.RunAsync(async () => await Task.Delay(Timeout.Infinite, cts.Token), cts.Token);
        cts.CancelAfter(20);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(task));
        Assert.True(task.IsCanceled);
    }

    [Theory, EachHost]
    public async Task WorkFromManyThreads_AllRunsOnTheLoop_OneAtATime(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        const int Threads = 8, Each = 1000;
        long counter = 0; // a plain increment: lost updates would show if two pieces of work ever ran at once
        int offLoop = 0;
        using var start = new Barrier(Threads);
        var posters = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            var mine = new Task[Each];
            for (int i = 0; i < Each; i++)
            {
                mine[i] = i % 2 == 0
                    ? loop.RunAsync(() =>
                    {
                        Bump();
                        return Task.CompletedTask;
                    })
                    : PostAndTrack();
            }
            return Task.WhenAll(mine);
        }, TaskCreationOptions.LongRunning).Unwrap()).ToArray();
        await Bounded(Task.WhenAll(posters));

        Assert.Equal(Threads * Each, counter);
        Assert.Equal(0, offLoop);

        void Bump()
        {
            if (Environment.CurrentManagedThreadId != loopThread)
            {
                Interlocked.Increment(ref offLoop);
            }
            counter++;
        }

        Task PostAndTrack()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            loop.SynchronizationContext.Post(_ =>
            {
                Bump();
                done.SetResult();
            }, null);
            return done.Task;
        }
    }

    [Theory, EachHost]
    public async Task HostRunAsync_SpreadsWorkOverItsLoops(string host)
    {
        Use(host);
        AioEngineHost engines = Host;
        int[] loopThreads = await Bounded(Task.WhenAll(engines.Loops.Select(ThreadIdOf)));
        Assert.Equal(2, loopThreads.Distinct().Count());
        int[] ran = await Bounded(Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            engines.RunAsync(() => Task.FromResult(Environment.CurrentManagedThreadId)))));
        Assert.Equal(loopThreads.Order(), ran.Distinct().Order());
        Assert.Equal([0, 1], engines.Loops.Select(l => l.Index));
        Assert.All(engines.Loops, l => Assert.Same(engines, l.Host));
    }

    [Theory, EachHost]
    public async Task BlockingOneLoop_StallsOnlyThatLoop_AndShowsAsItsLag(string host)
    {
        Use(host);
        AioEngineHost engines = Host;
        using var lag = new LoopLagProbe();
        lag.Observe(); // a fresh interval
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        Task blocked = engines.Loops[0].RunAsync(() =>
        {
            started.Set();
            gate.Wait(LongTimeout); // blocking on a loop: what the docs warn about
            return Task.CompletedTask;
        });
        Assert.True(started.Wait(LongTimeout)); // the 50 ms below are then surely inside the block
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 20; i++)
        {
            await Bounded(engines.Loops[1].RunAsync(() => Task.Delay(1))); // the other loop serves on
        }
        Assert.False(blocked.IsCompleted);
        Thread.Sleep(50);
        gate.Set();
        await Bounded(blocked);
        TimeSpan held = waited.Elapsed;

        IReadOnlyDictionary<int, double> lags = lag.Observe();
        int blockedId = engines.EngineLoops[0].Id, otherId = engines.EngineLoops[1].Id;
        Assert.True(lags[blockedId] >= 50_000, $"loop 0 lag {lags[blockedId]} µs, held {held.TotalMilliseconds} ms");
        Assert.True(lags[otherId] < lags[blockedId]);
    }

    [Theory, EachHost]
    public void Misuse_IsRefusedWithAReason(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        Assert.Throws<ArgumentNullException>(() => { _ = loop.RunAsync(null!); });
        Assert.Throws<ArgumentNullException>(() => { _ = loop.RunAsync<int>(null!); });
        var fromLoop = Assert.Throws<InvalidOperationException>(() =>
            loop.RunAsync(() =>
            {
                Host.Dispose();
                return Task.CompletedTask;
            }).GetAwaiter().GetResult());
        Assert.Contains("own loops", fromLoop.Message);
        Host.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { _ = loop.RunAsync(() => Task.CompletedTask); });
        Assert.Throws<ObjectDisposedException>(() => { _ = Host.RunAsync(() => Task.CompletedTask); });
    }

    // User code may clear or replace the current context (a posted callback that calls SetSynchronizationContext and
    // never restores it); the loop puts its own back after each item, so an inline continuation run later in the same
    // turn still finds it, and its next await comes back to the loop.
    [Theory, EachHost]
    public async Task ACallbackThatClearsTheContext_DoesNotTakeItFromTheNextCode(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));
        Task<(bool, int)> run = loop.RunAsync(async () =>
        {
            SynchronizationContext.Current!.Post(_ => SynchronizationContext.SetSynchronizationContext(null), null);
            await fifo.File.ReadAsync(new byte[4], 0);
            bool contextCurrent = SynchronizationContext.Current == loop.SynchronizationContext;
            await Task.Delay(1);
            return (contextCurrent, Environment.CurrentManagedThreadId);
        });
        await Task.Delay(50); // the callback has run, and the read waits in the kernel
        fifo.Feed(4, 1);
        (bool contextCurrent, int after) = await Bounded(run);
        Assert.True(contextCurrent);
        Assert.Equal(loopThread, after);
    }

    private static readonly AsyncLocal<string?> s_left = new();

    // A posted callback runs under the thread's ExecutionContext (Post does not flow the poster's), and may set an
    // AsyncLocal and return. The thread pool resets a thread's context after each item; the loop does so after each
    // piece of work too, so the next one does not see it — on the loop, and on the pool item that runs work posted
    // after the loop ended (one pool item runs item after item there). A gate makes the items run back to back.
    [Theory, EachHost(false), EachHost(true)]
    public async Task APostedCallbackThatLeavesAnAsyncLocalSet_DoesNotHandItToTheNextWork(string host, bool afterTheLoopEnded)
    {
        Use(host);
        AioEngineHost engines = NewHost(threads: 1);
        SynchronizationContext context = engines.Loops[0].SynchronizationContext;
        if (afterTheLoopEnded)
        {
            engines.Dispose();
        }
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var gate = new ManualResetEventSlim();
        context.Post(_ => gate.Wait(LongTimeout), null);
        context.Post(_ => s_left.Value = "left by an earlier callback", null);
        context.Post(_ => seen.SetResult(s_left.Value), null);
        gate.Set();

        Assert.Null(await Bounded(seen.Task));
    }

    // The same for a raw continuation (UnsafeOnCompleted: no context flows) of an operation begun on the loop, which the
    // loop runs inline when the read completes.
    [Theory, EachHost]
    public async Task ARawContinuationOnTheLoopThatLeavesAnAsyncLocalSet_DoesNotHandItToTheNextWork(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));
        var seen = new TaskCompletionSource<(string?, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Bounded(loop.RunAsync(() =>
        {
            var awaiter = fifo.File.ReadAsync(new byte[1], 0).GetAwaiter();
            awaiter.UnsafeOnCompleted(() =>
            {
                awaiter.GetResult();
                bool onLoop = loop.IsOnLoopThread;
                s_left.Value = "left by a raw continuation";
                SynchronizationContext.Current!.Post(_ => seen.SetResult((s_left.Value, onLoop)), null);
            });
            return Task.CompletedTask;
        }));
        fifo.Feed(1, 1);

        Assert.Equal((null, true), await Bounded(seen.Task));
    }

    // The gauge must show a loop blocked right now, not only one whose block has ended: a stuck loop is what it is for.
    [Theory, EachHost]
    public async Task ALoopBlockedNow_ShowsAsItsLagBeforeTheBlockEnds(string host)
    {
        Use(host);
        AioEngineHost engines = Host;
        using var lag = new LoopLagProbe();
        lag.Observe(); // a fresh interval
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        Task blocked = engines.Loops[0].RunAsync(() =>
        {
            started.Set();
            gate.Wait(LongTimeout);
            return Task.CompletedTask;
        });
        Assert.True(started.Wait(LongTimeout));
        Thread.Sleep(100);
        double during = lag.Observe()[engines.EngineLoops[0].Id];
        gate.Set();
        await Bounded(blocked);
        Assert.True(during >= 100_000, $"lag while blocked for 100 ms: {during} µs");
    }
}
