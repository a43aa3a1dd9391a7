using System.Diagnostics;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>FileAio operations issued on a loop: they go to the loop's own engine, their continuations run inline on
/// the loop thread, in completion order, allocate nothing in steady state, and cancel as anywhere else.</summary>
public sealed class AioLoopFileTests : LoopTest
{
    [Theory, EachHost]
    public async Task Operations_IssuedOnTheLoop_ResumeOnTheLoopThread_EvenWithConfigureAwaitFalse(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[1];
        int loopThread = await Bounded(ThreadIdOf(loop));
        string path = PathOf("on-loop.bin");

        int offLoop = await Bounded(loop.RunAsync(async () =>
        {
            int wrong = 0;
            void Check()
            {
                if (Environment.CurrentManagedThreadId != loopThread)
                {
                    wrong++;
                }
            }
            AioFile file = OpenFile(Host, path); // opened on the loop: bound to it
            var data = new byte[8192];
            var back = new byte[8192];
            for (int i = 0; i < 50; i++)
            {
                data.AsSpan().Fill((byte)i);
                await file.WriteAllAsync(data, i * 8192L);
                Check();
                await file.ReadExactlyAsync(back, i * 8192L).ConfigureAwait(false); // inline: no context to leave for
                Check();
                Assert.Equal(data, back);
                await file.FlushAsync(dataOnly: true);
                Check();
                await file.ReadAsync(new Memory<byte>[] { back.AsMemory(0, 100), back.AsMemory(100, 100) }, 0);
                Check();
            }
            await file.DisposeAsync();
            Check();
            return wrong;
        }));

        Assert.Equal(0, offLoop);
        Assert.Equal(50 * 8192, new FileInfo(path).Length);
    }

    [Theory, EachHost]
    public async Task AFileOfAnotherLoop_UsedOnThisOne_StillResumesOnThisOne(string host)
    {
        Use(host);
        AioLoop here = Host.Loops[0];
        AioFile elsewhere = await Bounded(Host.Loops[1].RunAsync(() => Task.FromResult(OpenFile(Host, PathOf("other.bin")))));
        int loopThread = await Bounded(ThreadIdOf(here));

        int offLoop = await Bounded(here.RunAsync(async () =>
        {
            int wrong = 0;
            var buffer = new byte[4096];
            for (int i = 0; i < 100; i++)
            {
                await elsewhere.WriteAsync(buffer, i * 4096L); // crosses to loop 1; the continuation comes back here
                wrong += Environment.CurrentManagedThreadId == loopThread ? 0 : 1;
            }
            return wrong;
        }));

        Assert.Equal(0, offLoop);
    }

    [Theory, EachHost]
    public async Task Continuations_RunInCompletionOrder_NotIssueOrder(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        HeldFifo first = null!, second = null!;
        await Bounded(loop.RunAsync(() =>
        {
            first = NewHeldFifo(Host, "first.fifo");   // opened on the loop: bound to it
            second = NewHeldFifo(Host, "second.fifo");
            return Task.CompletedTask;
        }));
        var order = new List<string>();
        Task reads = loop.RunAsync(() =>
        {
            async Task ReadOne(HeldFifo fifo, string name)
            {
                await fifo.File.ReadAsync(new byte[1], 0);
                order.Add(name);
            }
            return Task.WhenAll(ReadOne(first, "first"), ReadOne(second, "second"));
        });
        await Task.Delay(50); // both reads wait in the kernel
        second.Feed(1, 2);
        await WaitUntil(() => Volatile.Read(ref order).Count == 1 || reads.IsCompleted);
        first.Feed(1, 1);
        await Bounded(reads);
        Assert.Equal(["second", "first"], order);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew(); // monotonic: a step of the wall clock must not end the wait
        while (!condition() && waited.Elapsed < LongTimeout)
        {
            await Task.Delay(1);
        }
    }

    [Theory, EachHost]
    public async Task SteadyState_OnTheLoop_AllocatesNothingPerOperation(string host)
    {
        Use(host);
        const int Flows = 8, Warmup = 4_000, Measured = 40_000;
        AioLoop loop = Host.Loops[0];
        string path = CreatePatternFile("alloc.bin", 1 << 20);

        double best = await Bounded(loop.RunAsync(async () =>
        {
            AioFile file = OpenFile(Host, path);
            byte[][] buffers = Enumerable.Range(0, Flows).Select(_ => new byte[4096]).ToArray();
            async Task Flow(int flow, int count)
            {
                byte[] buffer = buffers[flow];
                long offset = flow * 4096L;
                for (int i = 0; i < count; i++)
                {
                    await file.ReadAsync(buffer, offset);
                    offset = (offset + Flows * 4096L) % (1 << 20);
                }
            }
            async Task Round(int each)
            {
                var flows = new Task[Flows];
                for (int f = 0; f < Flows; f++)
                {
                    flows[f] = Flow(f, each);
                }
                await Task.WhenAll(flows);
            }

            await Round(Warmup / Flows); // the pool fills, the JIT settles
            // Three windows; the runtime's own occasional allocations land in one or another, while anything allocated
            // per operation would show in every one. The flows themselves allocate their tasks (a few hundred bytes).
            double perOperation = double.MaxValue;
            for (int window = 0; window < 3; window++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                await Round(Measured / Flows);
                perOperation = Math.Min(perOperation, (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / Measured);
            }
            await file.DisposeAsync();
            return perOperation;
        }));

        Assert.True(best < 0.5, $"{best:F3} bytes per operation in the best of three windows of {Measured}.");
    }

    [Theory, EachHost]
    public async Task ATokenFiringOnAnotherThread_CancelsAnOperationIssuedOnTheLoop_InTheKernel(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));
        using var cts = new CancellationTokenSource();

        Task<int> read = loop.RunAsync(async () =>
        {
            try
            {
                await fifo.File.ReadAsync(new byte[16], 0, cts.Token);
                return -1;
            }
            catch (OperationCanceledException e) when (e.CancellationToken == cts.Token)
            {
                return Environment.CurrentManagedThreadId;
            }
        });
        await Task.Delay(30);
        Assert.False(read.IsCompleted);
        cts.Cancel();
        Assert.Equal(loopThread, await Bounded(read));

        // The FIFO's data was not taken by the cancelled read: the next read gets it.
        fifo.Feed(3, 7);
        byte[] got = await Bounded(loop.RunAsync(async () =>
        {
            var buffer = new byte[3];
            await fifo.File.ReadExactlyAsync(buffer, 0);
            return buffer;
        }));
        Assert.Equal([7, 7, 7], got);
    }

    [Theory, EachHost]
    public async Task ATokenCancelledOnTheLoopItself_CancelsTheLoopsOwnOperation(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));

        bool cancelled = await Bounded(loop.RunAsync(async () =>
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> read = fifo.File.ReadAsync(new byte[16], 0, cts.Token); // in the backlog, not yet in the engine
            cts.Cancel();                                                        // before the loop's turn moves it
            try
            {
                await read;
                return false;
            }
            catch (OperationCanceledException)
            {
            }
            using var later = new CancellationTokenSource();
            ValueTask<int> second = fifo.File.ReadAsync(new byte[16], 0, later.Token);
            await Task.Delay(20);                                                // now in the kernel
            later.Cancel();
            try
            {
                await second;
                return false;
            }
            catch (OperationCanceledException)
            {
                return true;
            }
        }));

        Assert.True(cancelled);
    }

    // An engine that refuses an operation at Start (Linux AIO's io_submit answers EBADF for a write to a read-only fd)
    // completes it inside the loop's StartWork, so its continuation runs there and issues the next operation into the
    // backlog after StartWork has looked at it: the loop must still start that one rather than sleep with it.
    [Theory, EachHost]
    public async Task AnOperationRefusedAtStart_TheOneItsContinuationIssues_StillRuns(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        string path = CreatePatternFile("read-only.bin", 8192);
        Task<int> run = loop.RunAsync(async () =>
        {
            AioFile file = Own(AioFile.Open(path, FileMode.Open, FileAccess.Read,
                new AioFileOptions { Host = Host, InlineCachedReads = Variant.InlineCachedReads }));
            await Assert.ThrowsAnyAsync<IOException>(async () => await file.WriteAsync(new byte[4096], 0));
            return await file.ReadAsync(new byte[4096], 0);
        });
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5))) == run,
            $"the read issued after the refused write never ran (held {Host.EngineLoops[0].HeldCount})");
        Assert.Equal(4096, await run);
    }

    // Inline-ness is decided when the operation begins; a ValueTask begun on the loop may still be awaited elsewhere, and
    // code on a pool thread must not then resume on the engine thread (where it would hold up every other operation).
    [Theory, EachHost]
    public async Task AnOperationBegunOnTheLoop_AwaitedOnAPoolThread_ResumesOffTheLoop(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        int loopThread = await Bounded(ThreadIdOf(loop));
        HeldFifo fifo = await Bounded(loop.RunAsync(() => Task.FromResult(NewHeldFifo(Host))));
        ValueTask<int> read = default;
        await Bounded(loop.RunAsync(() =>
        {
            read = fifo.File.ReadAsync(new byte[4], 0);
            return Task.CompletedTask;
        }));
        var awaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> resumedOn = Task.Run(async () =>
        {
            ValueTask<int> mine = read;
            awaiting.SetResult();
            Assert.Equal(4, await mine); // no context here: it resumes where the source runs it
            return Environment.CurrentManagedThreadId;
        });
        await Bounded(awaiting.Task);
        await Task.Delay(50); // the awaiter's continuation is registered by now
        fifo.Feed(4, 1);
        Assert.NotEqual(loopThread, await Bounded(resumedOn));
    }
}
