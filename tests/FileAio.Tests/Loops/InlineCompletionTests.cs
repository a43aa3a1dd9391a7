using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// <see cref="AioFileOptions.InlineCompletions"/>: ordinary callers (pool threads, no loop code) whose continuations
/// run inline on the engine thread that completes their operations — with no context current there, in completion
/// order, staying there over a chain of awaits, going back to a context they captured, and with Dispose, DisposeAsync
/// and cancellation working from there. Every host variant: each engine's thread is the one that runs them.
/// </summary>
public sealed class InlineCompletionTests : LoopTest
{
    /// <summary>Waits for <paramref name="task"/>, bounded, and resumes on the pool: a task that code running inline
    /// completed on an engine thread would otherwise resume the test there too (as it would any caller), and the test's
    /// end must not run on a loop of the host it disposes. (Code resumed inline has no context: the yield queues to the
    /// pool.)</summary>
    private static async Task<T> Off<T>(Task<T> task)
    {
        try
        {
            return await task.WaitAsync(LongTimeout).ConfigureAwait(false);
        }
        finally
        {
            await Task.Yield(); // a failure too: the test's end must not run on the engine thread
        }
    }

    private static async Task Off(Task task)
    {
        try
        {
            await task.WaitAsync(LongTimeout).ConfigureAwait(false);
        }
        finally
        {
            await Task.Yield();
        }
    }

    private static Task<int[]> EngineThreadsOf(AioEngineHost host) => Off(Task.WhenAll(host.Loops.Select(ThreadIdOf)));

    /// <summary>How many flushes a test awaits, at most, to move its flow onto an engine thread (see
    /// <see cref="OnAnEngineThread"/>): an operation may complete before its await looks, and then not move it.</summary>
    private const int MovesAllowed = 100;

    /// <summary>Whether the caller runs inline on an engine thread. Asked by the flow itself after each await: an async
    /// helper that answered it would answer for the thread it ran on, and its own caller may resume elsewhere (its
    /// task completed on the engine thread before the caller's await looked at it).</summary>
    private static bool OnAnEngineThread => AioLoop.Current is not null && FileAio.Async.EngineLoop.InInlineCompletion;

    [Theory, EachHost]
    public async Task AContinuation_RunsOnTheEngineThread_WithNoContext_AndItsNextAwaitOfOtherThingsLeaves(string host)
    {
        Use(host);
        int[] engineThreads = await EngineThreadsOf(Host);
        HeldFifo fifo = NewHeldFifo(Host, inlineCompletions: true);
        var issued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = Task.Run(async () =>
        {
            ValueTask<int> read = fifo.File.ReadAsync(new byte[4], 0);
            issued.SetResult();
            int count = await read;
            var resumed = (Thread: Environment.CurrentManagedThreadId, Loop: AioLoop.Current,
                NoContext: SynchronizationContext.Current is null, DefaultScheduler: TaskScheduler.Current == TaskScheduler.Default);
            await Task.Delay(1); // not a FileAio operation: resumes on the pool, not on the engine thread
            return (count, resumed, AfterDelayOnLoop: AioLoop.Current is not null);
        });
        await Off(issued.Task);
        await Task.Delay(30);
        fifo.Feed(4, 9);
        var (count, resumed, afterDelayOnLoop) = await Off(run);

        Assert.Equal(4, count);
        Assert.Contains(resumed.Thread, engineThreads);
        Assert.Same(Host, resumed.Loop?.Host);
        Assert.True(resumed.NoContext, "the inline continuation found a synchronization context current");
        Assert.True(resumed.DefaultScheduler);
        Assert.False(afterDelayOnLoop, "an await of something else, after the inline continuation, came back to the engine thread");
    }

    // Each completion ends its operation (OperationsInFlight drops) before its continuation runs, and the continuation
    // runs before the engine thread completes the next one: so the continuations, run one after another on one thread,
    // see the count fall by one each time. Continuations queued to the pool would see it in any order, repeated.
    [Theory, EachHost]
    public async Task Continuations_RunOneAtATime_InCompletionOrder_OnTheFilesEngineThread(string host)
    {
        Use(host);
        const int Reads = 4;
        int[] engineThreads = await EngineThreadsOf(Host);
        HeldFifo fifo = NewHeldFifo(Host, inlineCompletions: true);
        var seen = new List<(int InFlight, int Thread)>();

        async Task ReadOne()
        {
            await fifo.File.ReadAsync(new byte[1], 0);
            lock (seen)
            {
                seen.Add((fifo.File.OperationsInFlight, Environment.CurrentManagedThreadId));
            }
        }
        Task reads = Task.Run(() => Task.WhenAll(Enumerable.Range(0, Reads).Select(_ => ReadOne())));
        for (int i = 0; i < 3000 && fifo.File.OperationsInFlight < Reads; i++)
        {
            await Task.Delay(1);
        }
        Assert.Equal(Reads, fifo.File.OperationsInFlight);
        await Task.Delay(30);
        fifo.Feed(Reads, 5);
        await Off(reads);

        Assert.Equal(Enumerable.Range(0, Reads).Reverse(), seen.Select(s => s.InFlight));
        Assert.Single(seen.Select(s => s.Thread).Distinct());
        Assert.Contains(seen[0].Thread, engineThreads);
    }

    [Theory, EachHost]
    public async Task ACapturedSynchronizationContext_IsPostedTo_WhileConfigureAwaitFalse_RunsInline(string host)
    {
        Use(host);
        HeldFifo fifo = NewHeldFifo(Host, inlineCompletions: true);
        var context = new CountingContext();
        var issued = new SemaphoreSlim(0);

        var run = Task.Run(async () =>
        {
            SynchronizationContext.SetSynchronizationContext(context);
            ValueTask<int> first = fifo.File.ReadAsync(new byte[1], 0);
            issued.Release();
            await first; // the context was captured: posted to it
            bool backOnContext = SynchronizationContext.Current == context && AioLoop.Current is null;
            ValueTask<int> second = fifo.File.ReadAsync(new byte[1], 0);
            issued.Release();
            await second.ConfigureAwait(false); // nothing to go back to: inline
            bool inline = AioLoop.Current is not null && SynchronizationContext.Current is null;
            return (backOnContext, inline);
        });
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await issued.WaitAsync(LongTimeout));
            await Task.Delay(30);
            fifo.Feed(1, 1);
        }
        var (backOnContext, inline) = await Off(run);

        Assert.True(backOnContext, "the await that captured a context did not resume on it");
        Assert.Equal(1, context.Posts);
        Assert.True(inline, "the ConfigureAwait(false) await did not resume inline on the engine thread");
    }

    [Theory, EachHost]
    public async Task ACapturedTaskScheduler_IsQueuedTo(string host)
    {
        Use(host);
        HeldFifo fifo = NewHeldFifo(Host, inlineCompletions: true);
        var pair = new ConcurrentExclusiveSchedulerPair();
        var issued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<(bool, bool)> run = Task.Factory.StartNew(async () =>
        {
            ValueTask<int> read = fifo.File.ReadAsync(new byte[1], 0);
            issued.SetResult();
            await read;
            return (TaskScheduler.Current == pair.ExclusiveScheduler, AioLoop.Current is null);
        }, CancellationToken.None, TaskCreationOptions.DenyChildAttach, pair.ExclusiveScheduler).Unwrap();
        await Off(issued.Task);
        await Task.Delay(30);
        fifo.Feed(1, 1);

        Assert.Equal((true, true), await Off(run));
    }

    // A chain of awaits stays on the engine thread: each read begun there goes straight into the engine (not the
    // page-cache fast path, which would keep a flow of cache hits on the thread for ever), so it is still pending when
    // ReadAsync returns, and its continuation runs on the same thread.
    [Theory, EachHost]
    public async Task AReadLoop_KeepsRunningInline_AndItsReadsGoToTheEngine(string host)
    {
        Use(host);
        const int Blocks = 64, Reads = 300;
        string path = CreatePatternFile("chain.bin", Blocks * 4096L);
        AioFile file = OpenFile(Host, path, inlineCompletions: true);

        var run = Task.Run(async () =>
        {
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await file.FlushAsync();
            }
            int engineThread = Environment.CurrentManagedThreadId;
            int completedAtOnce = 0, elsewhere = 0, wrongData = 0;
            var buffer = new byte[4096];
            for (int i = 0; i < Reads; i++)
            {
                long offset = (i * 37 % Blocks) * 4096L;
                ValueTask<int> read = file.ReadAsync(buffer, offset);
                completedAtOnce += read.IsCompleted ? 1 : 0;
                Assert.Equal(4096, await read);
                elsewhere += Environment.CurrentManagedThreadId == engineThread ? 0 : 1;
                wrongData += buffer[100] == PatternByte(offset + 100) && buffer[4095] == PatternByte(offset + 4095) ? 0 : 1;
            }
            return (completedAtOnce, elsewhere, wrongData);
        });

        Assert.Equal((0, 0, 0), await Off(run));
    }

    [Theory, EachHost]
    public async Task AnOperationOfAnOrdinaryFile_BegunInAnInlineContinuation_ResumesOnThePool(string host)
    {
        Use(host);
        AioEngineHost single = NewHost(threads: 1); // both files on the one engine thread
        AioFile inline = OpenFile(single, PathOf("inline.bin"), inlineCompletions: true);
        AioFile ordinary = OpenFile(single, PathOf("ordinary.bin"));

        var run = Task.Run(async () =>
        {
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await inline.FlushAsync();
            }
            ValueTask<int> write = ordinary.WriteAsync(new byte[512], 0); // on the engine thread: the direct path
            bool pendingAtOnce = !write.IsCompleted;
            Assert.Equal(512, await write);
            return (pendingAtOnce, OnLoop: AioLoop.Current is not null);
        });

        Assert.Equal((true, false), await Off(run));
    }

    // Loop code is not an ordinary caller: an inline file's operations issued there keep the loop mode, resuming on the
    // loop with the loop's context, so the loop's code stays the loop's.
    [Theory, EachHost]
    public async Task LoopCode_UsingAnInlineFile_KeepsTheLoopMode(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Off(ThreadIdOf(loop));

        var result = await Off(loop.RunAsync(async () =>
        {
            AioFile file = OpenFile(Host, PathOf("loop.bin"), inlineCompletions: true); // opened on the loop: bound to it
            await file.WriteAsync(new byte[4096], 0);
            bool context = SynchronizationContext.Current == loop.SynchronizationContext;
            await Task.Yield(); // through the loop's queue: back on the loop
            return (context, Environment.CurrentManagedThreadId);
        }));

        Assert.Equal((true, loopThread), result);
    }

    [Theory, EachHost]
    public async Task Dispose_InAnInlineContinuation_WithOperationsInFlight_Refuses_AndDisposeAsyncEndsThem(string host)
    {
        Use(host);
        // One engine thread: the continuation runs on the thread that would have to cancel and complete the held read,
        // so the read is still in flight when Dispose looks (on another thread it might just have been cancelled).
        AioEngineHost single = NewHost(threads: 1);
        HeldFifo fifo = NewHeldFifo(single, inlineCompletions: true);
        AioFile other = OpenFile(single, PathOf("other.bin"), inlineCompletions: true);

        var run = Task.Run(async () =>
        {
            ValueTask<int> held = fifo.File.ReadAsync(new byte[8], 0);
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await other.FlushAsync();
            }
            InvalidOperationException refused = Assert.Throws<InvalidOperationException>(fifo.File.Dispose);
            bool stillOnEngine = AioLoop.Current is not null;
            other.Dispose(); // nothing in flight: returns at once, even here
            Assert.Throws<ObjectDisposedException>(() => { _ = other.WriteAsync(new byte[1], 0); });
            await fifo.File.DisposeAsync(); // what the message says to do; it cancels the held read
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await held);
            return (refused.Message, stillOnEngine);
        });
        var (message, stillOnEngine) = await Off(run);

        Assert.Contains("DisposeAsync", message);
        Assert.Contains("inline", message);
        Assert.True(stillOnEngine);
        Assert.True(fifo.File.Handle.IsClosed);
    }

    // A `using` in such a continuation: its refused Dispose began the close, and nothing calls DisposeAsync after it. The
    // handle is closed once the read it cancelled has ended — never before, while the kernel may still use the file.
    [Theory, EachHost]
    public async Task Dispose_RefusedInAnInlineContinuation_StillClosesTheHandle_OnceItsOperationsEnd(string host)
    {
        Use(host);
        AioEngineHost single = NewHost(threads: 1); // as above: the read is still in flight when Dispose looks
        HeldFifo fifo = NewHeldFifo(single, inlineCompletions: true);
        AioFile other = OpenFile(single, PathOf("other.bin"), inlineCompletions: true);

        var run = Task.Run(async () =>
        {
            ValueTask<int> held = fifo.File.ReadAsync(new byte[8], 0);
            for (int move = 0; !OnAnEngineThread; move++)
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await other.FlushAsync();
            }
            Assert.Throws<InvalidOperationException>(fifo.File.Dispose);
            bool openWhileInFlight = !fifo.File.Handle.IsClosed;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await held); // the refused Dispose cancelled it
            return openWhileInFlight;
        });
        bool openWhileInFlight = await Off(run);
        var waited = System.Diagnostics.Stopwatch.StartNew(); // the close runs on the pool once the read has ended
        while (!fifo.File.Handle.IsClosed && waited.Elapsed < Infrastructure.Bounded.Bound)
        {
            await Task.Delay(1);
        }

        Assert.True(openWhileInFlight);
        Assert.True(fifo.File.Handle.IsClosed);
    }

    [Theory, EachHost]
    public async Task DisposeAsync_WithInlineOperationsInFlight_CancelsThem_AndTheirCodeResumesOnTheEngineThread(string host)
    {
        Use(host);
        int[] engineThreads = await EngineThreadsOf(Host);
        HeldFifo fifo = NewHeldFifo(Host, inlineCompletions: true);

        async Task<(bool, int)> HeldRead()
        {
            try
            {
                await fifo.File.ReadAsync(new byte[8], 0);
                return (false, Environment.CurrentManagedThreadId);
            }
            catch (OperationCanceledException)
            {
                return (true, Environment.CurrentManagedThreadId);
            }
        }
        Task<(bool, int)[]> reads = Task.Run(() => Task.WhenAll(Enumerable.Range(0, 3).Select(_ => HeldRead())));
        for (int i = 0; i < 3000 && fifo.File.OperationsInFlight < 3; i++)
        {
            await Task.Delay(1);
        }
        await Task.Delay(30);
        await Off(fifo.File.DisposeAsync().AsTask());

        foreach ((bool cancelled, int thread) in await Off(reads))
        {
            Assert.True(cancelled);
            Assert.Contains(thread, engineThreads);
        }
    }

    // The worst moments for a token: fired by an inline continuation on the engine thread itself (its message waits for
    // the thread's next turn), and fired from another thread while the operation completes.
    [Theory, EachHost]
    public async Task ATokenFiredInAnInlineContinuation_OrRacingTheCompletion_EndsTheOperationOnce(string host)
    {
        Use(host);
        AioEngineHost single = NewHost(threads: 1);
        HeldFifo fifo = NewHeldFifo(single, inlineCompletions: true);
        AioFile file = OpenFile(single, CreatePatternFile("race.bin", 64 * 4096L), inlineCompletions: true);
        using var cts = new CancellationTokenSource();

        var held = Task.Run(async () =>
        {
            try
            {
                await fifo.File.ReadAsync(new byte[8], 0, cts.Token);
                return "read";
            }
            catch (OperationCanceledException e) when (e.CancellationToken == cts.Token)
            {
                return AioLoop.Current is not null ? "cancelled, inline" : "cancelled, elsewhere";
            }
        });
        var canceller = Task.Run(async () =>
        {
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await file.FlushAsync();
            }
            await Task.Delay(30).ConfigureAwait(false); // off the engine thread now, while the read waits in the kernel
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await file.FlushAsync();
            }
            cts.Cancel(); // on the engine thread, inside an inline continuation
        });
        await Off(canceller);
        Assert.Equal("cancelled, inline", await Off(held));

        // Fired from another thread while the operation is in flight or completing: it ends once, one way or the other.
        int outcomes = await Off(Task.Run(async () =>
        {
            var buffer = new byte[4096];
            int ended = 0;
            for (int round = 0; round < 300; round++)
            {
                using var race = new CancellationTokenSource();
                long offset = (round % 64) * 4096L;
                ValueTask<int> read = file.ReadAsync(buffer, offset, race.Token);
                Task cancel = Task.Run(race.Cancel);
                try
                {
                    Assert.Equal(4096, await read);
                    Assert.Equal(PatternByte(offset + 1), buffer[1]);
                }
                catch (OperationCanceledException)
                {
                }
                ended++;
                await cancel;
            }
            return ended;
        }));
        Assert.Equal(300, outcomes);
        Assert.Equal(0, file.OperationsInFlight);
    }

    [Theory, EachHost]
    public async Task ManyThreads_ManyFiles_AllAgreeWithWhatWasWritten(string host)
    {
        Use(host);
        const int Flows = 8, Rounds = 150, Block = 4096;
        AioFile[] files = [OpenFile(Host, PathOf("a.bin"), inlineCompletions: true), OpenFile(Host, PathOf("b.bin"), inlineCompletions: true)];
        int[] engineThreads = await EngineThreadsOf(Host);

        async Task<int> Flow(int flow)
        {
            AioFile file = files[flow % 2];
            long offset = flow / 2 * Block;
            var data = new byte[Block];
            var back = new byte[Block];
            int strays = 0;
            // From a pool thread an operation may complete before its await looks, and not move the flow; from an engine
            // thread it cannot (that thread is busy running the flow), so the flow stays on engine threads from here.
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await file.FlushAsync();
            }
            for (int round = 0; round < Rounds; round++)
            {
                data.AsSpan().Fill((byte)(flow * 31 + round));
                await file.WriteAllAsync(data, offset);
                strays += engineThreads.Contains(Environment.CurrentManagedThreadId) ? 0 : 1;
                await file.ReadExactlyAsync(back, offset);
                Assert.Equal(data, back);
            }
            return strays;
        }
        int[] strays = await Off(Task.WhenAll(Enumerable.Range(0, Flows).Select(f => Task.Run(() => Flow(f)))));

        Assert.All(strays, s => Assert.Equal(0, s));
    }

    [Theory, EachHost]
    public async Task SteadyState_InlineReadLoops_AllocateNothingPerOperation(string host)
    {
        Use(host);
        const int Flows = 8, Warmup = 4_000, Measured = 40_000, FileLength = 1 << 20;
        string path = CreatePatternFile("alloc.bin", FileLength);
        AioFile file = OpenFile(Host, path, inlineCompletions: true);
        byte[][] buffers = Enumerable.Range(0, Flows).Select(_ => new byte[4096]).ToArray();

        async Task Flow(int flow, int count)
        {
            for (int move = 0; !OnAnEngineThread; move++) // flushes always go to the engine
            {
                Assert.True(move < MovesAllowed, "no flush ever resumed on an engine thread");
                await file.FlushAsync();
            }
            byte[] buffer = buffers[flow];
            long offset = flow * 4096L;
            for (int i = 0; i < count; i++)
            {
                await file.ReadAsync(buffer, offset);
                offset = (offset + Flows * 4096L) % FileLength;
            }
        }
        Task Round(int each) => Task.Run(() => Task.WhenAll(Enumerable.Range(0, Flows).Select(f => Flow(f, each))));

        await Off(Round(Warmup / Flows)); // the pool fills, the JIT settles
        // Three windows, as for the loop mode: the runtime's occasional allocations land in one or another, while
        // anything allocated per operation would show in every one. The flows' own tasks are a few hundred bytes.
        double best = double.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await Off(Round(Measured / Flows));
            best = Math.Min(best, (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / Measured);
        }

        Assert.True(best < 0.5, $"{best:F3} bytes per operation in the best of three windows of {Measured}.");
    }

    // An exception escaping a continuation on the engine thread is an unhandled exception (raised on a pool thread),
    // which ends the process: a process of its own (tests/FileAio.FreshProcess, "inline-continuation-throws").
    [Theory]
    [InlineData(AioEngineKind.IoUring)]
    [InlineData(AioEngineKind.ThreadPool)]
    [InlineData(AioEngineKind.LinuxAio)]
    [InlineData(AioEngineKind.PosixAio)]
    public async Task AnExceptionEscapingAContinuation_IsRaisedOnThePool_AndTheEngineThreadGoesOn(AioEngineKind engine)
    {
        Require.Linux();
        AioLimits limits = AioContext.GetLimits(engine);
        Assert.SkipUnless(limits.IsSupported, $"{engine} cannot run here: {limits.UnsupportedReason}");

        FreshProcess.Result run = await FreshProcess.RunAsync("inline-continuation-throws", engine);

        Assert.True(run.Passed, run.Describe());
    }

    /// <summary>A context that runs what is posted to it on the pool, with itself current, and counts the posts.</summary>
    private sealed class CountingContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.QueueUserWorkItem(_ =>
            {
                SetSynchronizationContext(this);
                try
                {
                    d(state);
                }
                finally
                {
                    SetSynchronizationContext(null);
                }
            });
        }
    }
}
