using FileAio.Async;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4 against the group commit of a file's flushes (FlushGroup): a flush is answered only by an fsync issued after
/// it was called; each caller keeps its cancellation; an error reaches every flush it answered; Dispose ends every
/// flush and closes the file only once the kernel has let go of it. A slow fsync is made with a lot of dirty page cache;
/// a flush held before the kernel is made with a write into a full FIFO (its FlushScope barrier holds the fsync).
/// </summary>
public sealed class AioFileFlushGroupTests : FileAioTest
{
    private const int Errno_EINVAL = 22;

    public static TheoryData<AioEngineKind> Engines => new(AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio, AioEngineKind.ThreadPool);

    /// <summary>FIFO-held writes park in the kernel on these (the thread pool would block a worker for ever instead).</summary>
    public static TheoryData<AioEngineKind> FifoEngines => new(AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio);

    private AioEngineHost NewHost(AioEngineKind kind)
    {
        AioLimits limits = AioContext.GetLimits(kind);
        Assert.SkipUnless(limits.IsSupported, $"{kind} cannot run here: {limits.UnsupportedReason}");
        return Own(AioEngineHost.Create(kind, threads: 1));
    }

    private AioFile OpenOn(AioEngineHost host, string path, FileMode mode) =>
        Own(AioFile.Open(path, mode, FileAccess.ReadWrite, new AioFileOptions { Host = host }));

    /// <summary>A file with <paramref name="megabytes"/> MiB of dirty page cache, so that its next fsync takes a while.</summary>
    private static async Task Dirty(AioFile file, int megabytes)
    {
        var chunk = new byte[1 << 20];
        Random.Shared.NextBytes(chunk);
        for (int i = 0; i < megabytes; i++)
        {
            await file.WriteAllAsync(chunk, (long)i << 20);
        }
    }

    /// <summary>Waits (bounded) until the file's group has had <paramref name="count"/> fsyncs accepted by the engine.</summary>
    private static void WaitIssued(AioFile file, long count)
    {
        Assert.True(SpinWait.SpinUntil(() => file.Flushes.IssuedCount >= count, TimeSpan.FromSeconds(10)),
            $"The group never issued fsync #{count} (issued {file.Flushes.IssuedCount}).");
    }

    // SPEC §4 "FlushAsync ... completes after that file's writes that completed before it was called": a flush called
    // while the file's fsync is in the kernel must not be answered by that fsync.
    [Theory, MemberData(nameof(Engines))]
    public async Task Flush_CalledWhileTheFilesFsyncIsInTheKernel_IsAnsweredByALaterFsync(AioEngineKind kind)
    {
        AioEngineHost host = NewHost(kind);
        AioFile file = OpenOn(host, PathOf("slow.bin"), FileMode.CreateNew);
        await Dirty(file, 128);
        Task first = file.FlushAsync().AsTask();
        WaitIssued(file, 1);
        bool firstStillRunning = file.Flushes.AnsweredCount == 0;
        await file.WriteAllAsync(new byte[4096], 200L << 20);
        Task second = file.FlushAsync(dataOnly: true).AsTask();
        await Bounded.Completes(first, "The first flush", () => { });
        await Bounded.Completes(second, "The second flush", () => { });
        Assert.True(firstStillRunning || file.Flushes.IssuedCount >= 2, "premise: the first fsync was still in the kernel");
        Assert.Equal(2, file.Flushes.IssuedCount);
        Assert.Equal(2, file.Flushes.AnsweredCount);
    }

    // SPEC §4 "a cancelled call completes with OperationCanceledException" and "Dispose/DisposeAsync ... wait until the
    // kernel has let go of every buffer, then close": after a flush is cancelled while its fsync is in the kernel,
    // DisposeAsync must still not return while the kernel holds the file, and the file must be closed when it returns
    // (a reopen with FileShare.None — flock LOCK_EX — must succeed, as it does after any other Dispose).
    [Theory, MemberData(nameof(Engines))]
    public async Task DisposeAsync_AfterAFlushWasCancelledDuringItsFsync_ReturnsWithTheFileClosed(AioEngineKind kind)
    {
        AioEngineHost host = NewHost(kind);
        string path = PathOf("slow.bin");
        AioFile file = OpenOn(host, path, FileMode.CreateNew);
        await Dirty(file, 256);
        using var cancel = new CancellationTokenSource();
        Task flush = file.FlushAsync(false, cancel.Token).AsTask();
        WaitIssued(file, 1);
        await cancel.CancelAsync();
        await Bounded.EndsCanceled(flush, "A flush cancelled while its fsync was in the kernel", () => { });
        bool fsyncStillRunning = file.Flushes.AnsweredCount == 0;
        await file.DisposeAsync();
        bool fsyncRanPastDispose = file.Flushes.AnsweredCount == 0;
        IReadOnlyList<string> open = OpenDescriptorsInDirectory();
        Assert.SkipUnless(fsyncStillRunning, "The fsync finished before the cancel reached it: the premise does not hold this run.");
        string? reopenFailure = null;
        try
        {
            using var exclusive = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            reopenFailure = e.Message;
        }
        Assert.False(fsyncRanPastDispose && open.Count > 0,
            $"DisposeAsync returned while the file's fsync was still in the kernel; the file is still open: {string.Join(", ", open)}" +
            (reopenFailure is null ? "" : $"; reopening it with FileShare.None right after failed: {reopenFailure}"));
        Assert.Null(reopenFailure);
    }

    // SPEC §4 (errors) with the FlushScope barrier: flushes that rode and waited behind a held write all get the fsync's
    // error (fsync of a FIFO is EINVAL); a cancelled one ends cancelled; each round's fsync is issued only when its
    // barrier allows.
    [Theory, MemberData(nameof(FifoEngines))]
    public async Task Flushes_BehindAHeldWrite_EachGetsTheFsyncError_AndTheCancelledOneEndsCancelled(AioEngineKind kind)
    {
        Require.Linux();
        AioEngineHost host = NewHost(kind);
        TestFifo fifo = Own(new TestFifo(PathOf("full.fifo")));
        fifo.Fill();
        void Release() => fifo.Drain();
        ReleaseFirstAtEnd(Release);
        AioFile file = OpenOn(host, fifo.Path, FileMode.Open);
        AioFile other = OpenOn(host, PathOf("other.bin"), FileMode.CreateNew);
        Task<int> write = file.WriteAsync(new byte[512], 0).AsTask();
        Task riding = file.FlushAsync().AsTask();
        await Bounded.Completes(other.WriteAsync(new byte[1], 0).AsTask(), "another file's write", Release); // loop took the flush
        using var cancel = new CancellationTokenSource();
        var waiting = new List<Task>();
        for (int i = 0; i < 6; i++)
        {
            waiting.Add(file.FlushAsync(dataOnly: i % 2 == 0).AsTask());
        }
        Task cancelled = file.FlushAsync(false, cancel.Token).AsTask();
        await Bounded.Completes(other.WriteAsync(new byte[1], 0).AsTask(), "another file's write", Release);
        Assert.Equal(0, file.Flushes.AnsweredCount); // the fsync is held behind the write: it answered no one yet
        await cancel.CancelAsync();
        await Bounded.EndsCanceled(cancelled, "A waiting flush, its token cancelled", Release);
        Assert.False(riding.IsCompleted || waiting.Any(t => t.IsCompleted), "A flush behind a held write completed early.");

        Release();
        await Bounded.Completes(write, "The held write, released", Release);
        foreach (Task flush in waiting.Prepend(riding))
        {
            await Bounded.Ends(flush, "A flush of the FIFO", Release);
            IOException error = await Assert.ThrowsAsync<IOException>(() => flush);
            Assert.Equal(Errno_EINVAL, error.HResult);
        }
        // The riding flush had the first fsync; the ones after it took the other slots (all held behind the write),
        // those the loop took in one turn sharing one, and the rest waited for a slot and failed with the first fsync's
        // error, without one of their own (a writeback error is reported once).
        Assert.InRange(file.Flushes.IssuedCount, 2, FlushGroup.MaxInFlight);
        await Bounded.Ends(file.DisposeAsync().AsTask(), "DisposeAsync", Release);
        Assert.Equal(0, file.OperationsInFlight);
    }

    // SPEC §4 Dispose: with a write held, a flush riding the fsync held behind it and flushes waiting for the next,
    // DisposeAsync ends all of them and returns; nothing is left in flight.
    [Theory, MemberData(nameof(FifoEngines))]
    public async Task DisposeAsync_WithFlushesRidingAndWaitingBehindAHeldWrite_EndsThemAll(AioEngineKind kind)
    {
        Require.Linux();
        AioEngineHost host = NewHost(kind);
        TestFifo fifo = Own(new TestFifo(PathOf("full.fifo")));
        fifo.Fill();
        void Release() => fifo.Drain();
        ReleaseFirstAtEnd(Release);
        AioFile file = OpenOn(host, fifo.Path, FileMode.Open);
        AioFile other = OpenOn(host, PathOf("other.bin"), FileMode.CreateNew);
        Task<int> write = file.WriteAsync(new byte[512], 0).AsTask();
        Task riding = file.FlushAsync().AsTask();
        await Bounded.Completes(other.WriteAsync(new byte[1], 0).AsTask(), "another file's write", Release);
        Task[] waiting = Enumerable.Range(0, 5).Select(_ => file.FlushAsync().AsTask()).ToArray();
        await Bounded.Completes(other.WriteAsync(new byte[1], 0).AsTask(), "another file's write", Release);

        await Bounded.Ends(file.DisposeAsync().AsTask(), "DisposeAsync with flushes riding and waiting", Release);
        Assert.Equal(0, file.OperationsInFlight);
        // Results are published before the AsTask continuations run: each must end at once, none succeed.
        Task[] flushes = waiting.Prepend(riding).ToArray();
        for (int i = 0; i < flushes.Length; i++)
        {
            await Bounded.Ends(flushes[i], $"Flush {i} of the disposed file", Release);
            Assert.False(flushes[i].IsCompletedSuccessfully, $"Flush {i}, behind a held write that Dispose cancelled, succeeded.");
        }
        await Bounded.Ends(write, "The held write of the disposed file", Release);
    }

    // SPEC §4 cancellation "whenever it fires", from many threads at once: every flush ends (completed or cancelled),
    // none twice (the pool stays sound: later operations return their own bytes), and nothing stays in flight.
    [Theory, MemberData(nameof(Engines))]
    public async Task ManyThreads_FlushingAndCancellingAtRandomMoments_EveryFlushEndsOnce(AioEngineKind kind)
    {
        AioEngineHost host = NewHost(kind);
        AioFile file = OpenOn(host, PathOf("storm.bin"), FileMode.CreateNew);
        long ended = 0, cancelled = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task[] workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var rng = new Random(w);
            var data = new byte[4096];
            var back = new byte[4096];
            for (int i = 0; clock.Elapsed < TimeSpan.FromSeconds(4); i++)
            {
                data.AsSpan().Fill((byte)(w * 31 + i));
                long offset = (long)w * 4096;
                await file.WriteAllAsync(data, offset);
                using var cts = new CancellationTokenSource();
                ValueTask flush = file.FlushAsync(dataOnly: rng.Next(2) == 0, cts.Token);
                int spin = rng.Next(0, 3000);
                if (spin < 2500)
                {
                    Thread.SpinWait(spin);
                    cts.Cancel();
                }
                try
                {
                    await flush;
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelled);
                }
                Interlocked.Increment(ref ended);
                await file.ReadExactlyAsync(back, offset);
                Assert.Equal(data, back);
            }
        })).ToArray();
        Task all = Task.WhenAll(workers);
        await Bounded.Ends(all, "The flushing workers", () => { });
        await all;
        await Bounded.Completes(file.FlushAsync().AsTask(), "A last flush", () => { });
        // An fsync whose flushes were all cancelled still counts until the kernel has answered it (Dispose waits for
        // it); once it has, nothing is left.
        var settle = System.Diagnostics.Stopwatch.StartNew();
        while (file.OperationsInFlight != 0 && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(1);
        }
        Assert.Equal(0, file.OperationsInFlight);
        Assert.True(ended > 0);
    }

    // Loop mode: continuations run inline on the loop thread, inside the completion of the group's fsync; each issues
    // the next flush of the same file. Every chain ends, and each later flush gets an fsync of its own round.
    [Theory, MemberData(nameof(Engines))]
    public async Task OnALoop_FlushesIssuedFromFlushContinuations_AllComplete(AioEngineKind kind)
    {
        AioLimits limits = AioContext.GetLimits(kind);
        Assert.SkipUnless(limits.IsSupported, $"{kind} cannot run here: {limits.UnsupportedReason}");
        AioEngineHost host = Own(AioEngineHost.Create(kind, threads: 1));
        AioLoop loop = host.Loops[0];
        string path = PathOf("loop.bin");
        const int Chains = 4, Rounds = 200;
        Task run = loop.RunAsync(async () =>
        {
            AioFile file = AioFile.Open(path, FileMode.CreateNew, FileAccess.ReadWrite, new AioFileOptions { Host = host });
            async Task Chain(int c)
            {
                var data = new byte[512];
                for (int i = 0; i < Rounds; i++)
                {
                    await file.WriteAsync(data, (long)c * 512);
                    await file.FlushAsync(dataOnly: (i + c) % 2 == 0);
                }
            }
            await Task.WhenAll(Enumerable.Range(0, Chains).Select(Chain));
            long issued = file.Flushes.IssuedCount;
            Assert.InRange(issued, Rounds, Chains * Rounds);
            // A continuation that disposes the file while other flushes of it wait.
            Task[] late = Enumerable.Range(0, 4).Select(_ => file.FlushAsync().AsTask()).ToArray();
            await file.FlushAsync();
            await file.DisposeAsync();
            foreach (Task t in late)
            {
                Assert.True(t.IsCompleted);
            }
        });
        await Bounded.Ends(run, "The chains of flushes on the loop", () => { });
        await run;
    }
    // SPEC §4 "Zero allocations per operation in steady state", for flushes that ride and wait in a group: eight
    // concurrent flushers of one file (so rounds of several riders, with waiters) allocate nothing per flush.
    [Theory, MemberData(nameof(Engines))]
    public async Task ConcurrentFlushesOfOneFile_InSteadyState_AllocateNothingPerFlush(AioEngineKind kind)
    {
        AioEngineHost host = NewHost(kind);
        AioFile file = OpenOn(host, PathOf("alloc.bin"), FileMode.CreateNew);
        await file.WriteAllAsync(new byte[4096], 0);
        const int Flushers = 8, Each = 300;
        async Task Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                await file.FlushAsync(dataOnly: (i & 1) == 0).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Flushers).Select(_ => Run(50)));
        long best = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            var tasks = new Task[Flushers];
            long issuedBefore = file.Flushes.IssuedCount;
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int f = 0; f < Flushers; f++)
            {
                tasks[f] = Run(Each);
            }
            await Task.WhenAll(tasks);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(file.Flushes.IssuedCount - issuedBefore < Flushers * Each, "premise: no flushes were grouped");
            best = Math.Min(best, allocated);
        }
        // The eight async methods' boxes and the WhenAll are a few KB; per flush would be >= 2400 x 24 bytes.
        Assert.True(best < 16 * 1024, $"{best} bytes for {Flushers * Each} grouped flushes: the group allocates per flush.");
    }
}
