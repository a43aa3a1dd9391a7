using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// Group commit (docs/async.md, "Flushes"): at most one fsync of a file in the kernel at a time; flushes called while
/// it runs wait and share one next fsync, which was issued after each of them was called. The held write of each
/// engine keeps the file's first fsync in the engine (at the file's barrier, behind the write) for as long as the test
/// wants, so "called while an fsync is in flight" is a fact here, not a race. The counters are the group's own:
/// fsyncs the engine accepted, and fsyncs whose answer went out.
/// </summary>
public abstract partial class AioFileFlushTests
{
    private AioFile? _settler;

    /// <summary>Returns once the engine thread has taken every operation issued before the call: an operation of
    /// another file, issued now, has completed (the thread serves its operations in order).</summary>
    private async Task Settle(Action release)
    {
        _settler ??= OpenFile(PathOf("settler.bin"), FileMode.CreateNew);
        Assert.Equal(16, await Bounded.Completes(_settler.WriteAsync(new byte[16], 0).AsTask(),
            "A write of another file on the same engine thread", release));
    }

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
        Task first = held.FlushAsync(dataOnly: true).AsTask();
        await Settle(release);
        Assert.Equal(1, held.Flushes.IssuedCount); // the first flush's fsync is in the engine, behind the held write

        Task[] next = [held.FlushAsync(dataOnly: true).AsTask(), held.FlushAsync().AsTask(), held.FlushAsync(dataOnly: true).AsTask()];
        await Settle(release);
        Assert.Equal(1, held.Flushes.IssuedCount); // called while it was in flight: none of them may ride it
        Assert.Equal(3, await Host.Loops[0].RunAsync(() => Task.FromResult(held.Flushes.WaitingCount)));
        Assert.False(first.IsCompleted, "A flush completed before its file's earlier write (held in the kernel).");
        Assert.DoesNotContain(next, t => t.IsCompleted);
        Assert.False(heldWrite.IsCompleted, "The held write completed before it was released: the test proved nothing.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        await AssertFlushOutcome(first, "The first flush, once the write was released,", release);
        foreach (Task flush in next)
        {
            await AssertFlushOutcome(flush, "A flush that waited for the next fsync", release);
        }
        Assert.Equal(2, held.Flushes.IssuedCount);   // one fsync for the first, ONE for the three that waited
        Assert.Equal(2, held.Flushes.AnsweredCount);
        Assert.Equal(0, held.OperationsInFlight);
    }

    [Fact]
    public async Task FlushAsync_WaitingForTheNextFsync_TokenCancelled_EndsAtOnceAndTheOthersGoOn()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        Task first = held.FlushAsync().AsTask();
        using var cancel = new CancellationTokenSource();
        Task doomed = held.FlushAsync(dataOnly: true, cancel.Token).AsTask();
        Task other = held.FlushAsync(dataOnly: true).AsTask();
        await Settle(release);
        Assert.Equal(4, held.OperationsInFlight); // the held write, the first flush (riding the held fsync), the two waiting
        Assert.False(doomed.IsCompleted || other.IsCompleted, "A waiting flush completed while its file's fsync was held.");

        await cancel.CancelAsync();
        await Bounded.EndsCanceled(doomed, "A flush waiting for its file's next fsync, its token cancelled,", release);
        Assert.False(first.IsCompleted, "Cancelling one flush ended the fsync the others share.");
        Assert.False(other.IsCompleted, "Cancelling one waiting flush ended another.");
        Assert.False(heldWrite.IsCompleted, "The held write completed before it was released: the test proved nothing.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        await AssertFlushOutcome(first, "The first flush", release);
        await AssertFlushOutcome(other, "The flush that waited beside the cancelled one", release);
        Assert.Equal(2, held.Flushes.IssuedCount);
        Assert.Equal(0, held.OperationsInFlight);
    }

    [Fact]
    public async Task FlushAsync_TheOneRidingAHeldFsync_TokenCancelled_EndsAtOnceAndTheFsyncGoesOn()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        using var cancel = new CancellationTokenSource();
        Task rider = held.FlushAsync(dataOnly: true, cancel.Token).AsTask();
        await Settle(release);
        Task waiter = held.FlushAsync(dataOnly: true).AsTask();
        await Settle(release);

        await cancel.CancelAsync();
        await Bounded.EndsCanceled(rider, "The flush riding its file's held fsync, its token cancelled,", release);
        Assert.False(waiter.IsCompleted, "The flush waiting for the next fsync completed while the write was held.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        await AssertFlushOutcome(waiter, "The flush that waited for the next fsync", release);
        Assert.Equal(2, held.Flushes.IssuedCount); // the held fsync went on (for no one), then the waiter's own
        Assert.Equal(0, held.OperationsInFlight);
    }

    [Fact]
    public async Task DisposeAsync_WithFlushesWaitingForTheNextFsync_CancelsThemAtOnceAndCloses()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        Task first = held.FlushAsync().AsTask();
        await Settle(release);
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
        await Bounded.Ends(first, "The flush whose fsync was in the engine when the file was disposed", release);
        await Bounded.Ends(heldWrite, "The held write", release);
        Assert.Equal(1, held.Flushes.IssuedCount); // nothing was issued for the cancelled ones
        Assert.Equal(0, held.OperationsInFlight);
        Assert.True(held.Handle.IsClosed);
    }

    [Fact]
    public async Task FlushAsync_ManyAppendersOnThreads_EachAnsweredByAnFsyncIssuedAfterItsCall()
    {
        const int Appenders = 16, Commits = 25, Block = 4096;
        AioFile log = OpenFile(PathOf("log.bin"), FileMode.CreateNew);
        string? broken = null;
        long flushes = 0;

        async Task Append(int appender)
        {
            byte[] block = Enumerable.Repeat((byte)(appender + 1), Block).ToArray();
            for (int i = 0; i < Commits; i++)
            {
                Assert.Equal(Block, await log.WriteAsync(block, ((long)i * Appenders + appender) * Block).ConfigureAwait(false));
                long issuedBeforeTheCall = log.Flushes.IssuedCount;
                await log.FlushAsync(dataOnly: true).ConfigureAwait(false);
                Interlocked.Increment(ref flushes);
                // The fsync that answered was issued after the call: it is at least number issuedBeforeTheCall + 1,
                // and it has answered. (Read later than the answer, the count can only be higher.)
                long answered = log.Flushes.AnsweredCount;
                if (answered <= issuedBeforeTheCall)
                {
                    broken ??= $"a flush called when {issuedBeforeTheCall} fsyncs were issued completed when only {answered} had answered";
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Appenders).Select(a => Task.Run(() => Append(a)))).WaitAsync(LongTimeout);

        Assert.Null(broken);
        long issued = log.Flushes.IssuedCount;
        Assert.Equal(issued, log.Flushes.AnsweredCount);
        // 16 appenders each waiting on a real fsync: flushes share fsyncs (each fsync takes far longer than a write).
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
