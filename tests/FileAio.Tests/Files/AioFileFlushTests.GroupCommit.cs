using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// Group commit (docs/async.md, "Flushes"): at most <see cref="Slots"/> fsyncs of a file in the kernel at a time;
/// flushes called while they all run wait and share one next fsync, which was issued after each of them was called. The held write of each
/// engine keeps the file's first fsync in the engine (at the file's barrier, behind the write) for as long as the test
/// wants, so "called while an fsync is in flight" is a fact here, not a race. The counters are the group's own:
/// fsyncs the engine accepted, and fsyncs whose answer went out.
/// </summary>
public abstract partial class AioFileFlushTests
{
    private AioFile? _settler;

    /// <summary>fsyncs of one file the engine runs at once; flushes beyond these share the next.</summary>
    private static int Slots => FileAio.Async.FlushGroup.MaxInFlight;

    /// <summary>One flush per fsync slot of the held file: each gets an fsync of its own, held in the engine behind
    /// the held write. Returns once the engine has them all.</summary>
    private async Task<Task[]> FillEveryFsyncSlot(AioFile held, Action release)
    {
        var flushes = new Task[Slots];
        for (int i = 0; i < Slots; i++)
        {
            flushes[i] = held.FlushAsync(dataOnly: i % 2 == 0).AsTask();
            await Settle(release); // one at a time: a flush arriving with the previous one still queued would ride it
        }
        Assert.Equal(Slots, held.Flushes.IssuedCount);
        Assert.DoesNotContain(flushes, t => t.IsCompleted); // behind the held write, none may complete
        return flushes;
    }

    /// <summary>Returns once the engine thread has taken every operation issued before the call: an operation of
    /// another file, issued now, has completed (the thread serves its operations in order).</summary>
    /// <summary>Waits (bounded) until the file counts nothing in flight: an fsync whose flushes were all answered or
    /// cancelled still counts until the kernel has answered it.</summary>
    private static async Task NothingLeftInFlight(AioFile file, Action release)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (file.OperationsInFlight != 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(1);
        }
        if (file.OperationsInFlight != 0)
        {
            release();
        }
        Assert.Equal(0, file.OperationsInFlight);
    }

    private async Task Settle(Action release)
    {
        _settler ??= OpenFile(PathOf("settler.bin"), FileMode.CreateNew);
        Assert.Equal(16, await Bounded.Completes(_settler.WriteAsync(new byte[16], 0).AsTask(),
            "A write of another file on the same engine thread", release));
    }

    /// <summary>fsyncs issued in all once flushes that waited for a slot behind <paramref name="slotsBusy"/> fsyncs have
    /// their answer: one more, shared — unless the held file's fsyncs fail, when the waiting flushes fail with the first
    /// failed one (a writeback error is reported once per open file) and none is issued for them.</summary>
    private long IssuedAfterAWaitingRound(int slotsBusy) => HeldFileFsyncFails ? slotsBusy : slotsBusy + 1;

    /// <summary>A flush of the held file after its write was released: it fails with EINVAL on a FIFO, else succeeds.</summary>
    private async Task AssertFlushOutcome(Task flush, string what, Action release)
    {
        await Bounded.Ends(flush, what, release);
        if (HeldFileFsyncFails)
        {
            IOException e = await Assert.ThrowsAsync<IOException>(() => flush);
            Assert.Equal(22, e.HResult); // EINVAL, the shared fsync's answer, given to this flush too
        }
        else
        {
            await flush;
        }
    }

    [Fact]
    public async Task FlushAsync_CalledWhileItsFilesFsyncIsInTheEngine_WaitsAndSharesOneNextFsync()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        Task[] first = await FillEveryFsyncSlot(held, release);

        Task[] next = [held.FlushAsync(dataOnly: true).AsTask(), held.FlushAsync().AsTask(), held.FlushAsync(dataOnly: true).AsTask()];
        await Settle(release);
        Assert.Equal(Slots, held.Flushes.IssuedCount); // called while every slot was in flight: none may ride those
        Assert.Equal(3, await Host.Loops[0].RunAsync(() => Task.FromResult(held.Flushes.WaitingCount)));
        Assert.DoesNotContain(first, t => t.IsCompleted);
        Assert.DoesNotContain(next, t => t.IsCompleted);
        Assert.False(heldWrite.IsCompleted, "The held write completed before it was released: the test proved nothing.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        foreach (Task flush in first)
        {
            await AssertFlushOutcome(flush, "A flush with an fsync of its own, once the write was released,", release);
        }
        foreach (Task flush in next)
        {
            await AssertFlushOutcome(flush, "A flush that waited for the next fsync", release);
        }
        // One each for the first, ONE for the three that waited (none when the first fsyncs failed: they share that).
        Assert.Equal(IssuedAfterAWaitingRound(Slots), held.Flushes.IssuedCount);
        Assert.Equal(IssuedAfterAWaitingRound(Slots), held.Flushes.AnsweredCount);
        await NothingLeftInFlight(held, release);
    }

    [Fact]
    public async Task FlushAsync_WaitingForTheNextFsync_TokenCancelled_EndsAtOnceAndTheOthersGoOn()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        Task[] first = await FillEveryFsyncSlot(held, release);
        using var cancel = new CancellationTokenSource();
        Task doomed = held.FlushAsync(dataOnly: true, cancel.Token).AsTask();
        Task other = held.FlushAsync(dataOnly: true).AsTask();
        await Settle(release);
        // The held write, a flush per busy slot and that slot's fsync, the two waiting.
        Assert.Equal(2 * Slots + 3, held.OperationsInFlight);
        Assert.False(doomed.IsCompleted || other.IsCompleted, "A waiting flush completed while its file's fsync was held.");

        await cancel.CancelAsync();
        await Bounded.EndsCanceled(doomed, "A flush waiting for its file's next fsync, its token cancelled,", release);
        Assert.DoesNotContain(first, t => t.IsCompleted);
        Assert.False(other.IsCompleted, "Cancelling one waiting flush ended another.");
        Assert.False(heldWrite.IsCompleted, "The held write completed before it was released: the test proved nothing.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        foreach (Task flush in first)
        {
            await AssertFlushOutcome(flush, "A flush with an fsync of its own", release);
        }
        await AssertFlushOutcome(other, "The flush that waited beside the cancelled one", release);
        Assert.Equal(IssuedAfterAWaitingRound(Slots), held.Flushes.IssuedCount);
        await NothingLeftInFlight(held, release);
    }

    [Fact]
    public async Task FlushAsync_TheOneRidingAHeldFsync_TokenCancelled_EndsAtOnceAndTheFsyncGoesOn()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        using var cancel = new CancellationTokenSource();
        Task rider = held.FlushAsync(dataOnly: true, cancel.Token).AsTask();
        await Settle(release);
        var others = new Task[Slots - 1];
        for (int i = 0; i < others.Length; i++)
        {
            others[i] = held.FlushAsync(dataOnly: true).AsTask();
            await Settle(release); // one at a time: flushes the loop takes in one turn share one fsync
        }
        Task waiter = held.FlushAsync(dataOnly: true).AsTask();
        await Settle(release);
        Assert.Equal(Slots, held.Flushes.IssuedCount);

        await cancel.CancelAsync();
        await Bounded.EndsCanceled(rider, "The flush riding its file's held fsync, its token cancelled,", release);
        Assert.False(waiter.IsCompleted, "The flush waiting for the next fsync completed while the write was held.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        await AssertFlushOutcome(waiter, "The flush that waited for the next fsync", release);
        foreach (Task flush in others)
        {
            await AssertFlushOutcome(flush, "A flush with an fsync of its own", release);
        }
        Assert.Equal(IssuedAfterAWaitingRound(Slots), held.Flushes.IssuedCount); // the cancelled one's fsync went on
        await NothingLeftInFlight(held, release);
    }

    [Fact]
    public async Task DisposeAsync_WithFlushesWaitingForTheNextFsync_CancelsThemAtOnceAndCloses()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        Task[] first = await FillEveryFsyncSlot(held, release);
        Task[] waiting = [held.FlushAsync().AsTask(), held.FlushAsync(dataOnly: true).AsTask()];
        await Settle(release);

        Task disposed = held.DisposeAsync().AsTask();
        foreach (Task flush in waiting)
        {
            // They never reached the kernel: cancelled at once, even where Dispose must wait for the held write.
            await Bounded.EndsCanceled(flush, "A flush waiting for its file's next fsync, the file disposed,", release);
        }

        release();
        await Bounded.Completes(disposed, "DisposeAsync, once the write was released,", release);
        foreach (Task flush in first)
        {
            await Bounded.Ends(flush, "A flush whose fsync was in the engine when the file was disposed", release);
        }
        await Bounded.Ends(heldWrite, "The held write", release);
        Assert.Equal(Slots, held.Flushes.IssuedCount); // nothing was issued for the cancelled ones
        Assert.Equal(0, held.OperationsInFlight);
        Assert.True(held.Handle.IsClosed);
    }

    [Fact]
    public async Task FlushAsync_ManyAppendersOnThreads_ShareFsyncsAndEveryCommitIsOnDisk()
    {
        const int Appenders = 16, Commits = 25, Block = 4096;
        AioFile log = OpenFile(PathOf("log.bin"), FileMode.CreateNew);
        long flushes = 0;

        async Task Append(int appender)
        {
            byte[] block = Enumerable.Repeat((byte)(appender + 1), Block).ToArray();
            for (int i = 0; i < Commits; i++)
            {
                Assert.Equal(Block, await log.WriteAsync(block, ((long)i * Appenders + appender) * Block).ConfigureAwait(false));
                await log.FlushAsync(dataOnly: true).ConfigureAwait(false);
                Interlocked.Increment(ref flushes);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Appenders).Select(a => Task.Run(() => Append(a)))).WaitAsync(LongTimeout);

        long issued = log.Flushes.IssuedCount;
        Assert.Equal(issued, log.Flushes.AnsweredCount);
        // 16 appenders each waiting on a real fsync, at most Slots fsyncs at once: flushes share.
        Assert.InRange(issued, 1, flushes - 1);
        await log.DisposeAsync();
        byte[] data = File.ReadAllBytes(log.Path);
        Assert.Equal(Appenders * Commits * Block, data.Length);
        for (int slot = 0; slot < Appenders * Commits; slot++)
        {
            Assert.True(data.AsSpan(slot * Block, Block).IndexOfAnyExcept((byte)(slot % Appenders + 1)) < 0, $"slot {slot}");
        }
    }
}
