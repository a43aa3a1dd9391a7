using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4, cancellation in the async layer: a token cancels an operation whenever it fires — right after the call
/// returned, while the engine is taking the operation in, or while it waits for room in the engine — and the call then
/// ends with <see cref="OperationCanceledException"/>. Each engine joins with a sealed subclass.
/// </summary>
public abstract class AioFileCancellationTests : FileAioTest
{
    /// <summary>Operations that hold the engine thread's room: more than the host keeps in flight per thread today
    /// (1024 on both engines), so that the operations after them wait for room.</summary>
    protected const int RoomHolders = 1024;

    private AioEngineHost? _host;

    protected abstract AioEngineKind EngineKind { get; }

    /// <summary>One engine thread: every file of a test shares it.</summary>
    protected AioEngineHost Host => _host ??= Own(AioEngineHost.Create(EngineKind, threads: 1));

    protected AioFile OpenFile(string path, FileMode mode = FileMode.Open, AioEngineHost? host = null) =>
        Own(AioFile.Open(path, mode, FileAccess.ReadWrite, new AioFileOptions { Host = host ?? Host, InlineCachedReads = false }));

    /// <summary>Starts <paramref name="count"/> operations on <see cref="Host"/> that stay in the engine until
    /// <paramref name="release"/> (idempotent; also run at the end of the test).</summary>
    protected abstract Task<int>[] HoldRoom(int count, out Action release);

    // SPEC §4: the token "cancels in the kernel ... whenever it fires — before submission, during it, or while the
    // operation is in flight". The first operations of a fresh host run code for the first time (slow), which widens any
    // window between the engine taking an operation in and the operation becoming cancellable.
    [Fact]
    public async Task ReadAsync_FifoReadCancelledRightAfterTheCall_OnFreshHosts_EndsWithOperationCanceled()
    {
        Require.Linux();
        const int Hosts = 40, ReadsPerHost = 5;
        for (int round = 0; round < Hosts; round++)
        {
            using AioEngineHost host = AioEngineHost.Create(EngineKind, threads: 1);
            using var fifo = new TestFifo(PathOf($"empty-{round}.fifo"));
            AioFile file = AioFile.Open(fifo.Path, FileMode.Open, FileAccess.ReadWrite,
                new AioFileOptions { Host = host, InlineCachedReads = false });
            try
            {
                for (int i = 0; i < ReadsPerHost; i++)
                {
                    byte[] buffer = Enumerable.Repeat((byte)0xEE, 64).ToArray();
                    using var cancel = new CancellationTokenSource();
                    Task<int> read = file.ReadAsync(buffer, 0, cancel.Token).AsTask();
                    cancel.Cancel();
                    await Bounded.EndsCanceled(read,
                        $"Host {round}, read {i} of an empty FIFO, cancelled right after ReadAsync returned,", () => fifo.Feed(64));
                    Assert.True(buffer.All(b => b == 0xEE), $"Host {round}, read {i}: a cancelled read wrote its buffer.");
                }
            }
            finally
            {
                fifo.Feed(64 * ReadsPerHost); // whatever a failure left in flight ends, so Dispose does not wait for it
                await Bounded.Ends(file.DisposeAsync().AsTask(), $"Host {round}: DisposeAsync after the reads", () => fifo.Feed(64));
            }
        }
    }

    // SPEC §4: the token "cancels in the kernel ... whenever it fires". The first operation of a fresh process runs the
    // engine's code for the first time, slowly, which widens any window in which a cancel finds nothing to cancel; each
    // process (tests/FileAio.FreshProcess, scenario "cancel-after-read") cancels its first read a little later after
    // the call than the one before, so that across them the cancel lands all along the engine's first take-in. One
    // process at a time: the race needs the engine thread and the caller to run at once, on a machine of two cores.
    [Fact]
    public async Task ReadAsync_FifoReadCancelledRightAfterTheCall_InFreshProcesses_EndsWithOperationCanceled()
    {
        Require.Linux();
        const int Processes = 41, StepMicroseconds = 10, RoundsEach = 3, AtOnce = 1;
        int[] delays = Enumerable.Range(0, Processes).Select(i => i * StepMicroseconds).ToArray();
        for (int first = 0; first < Processes; first += AtOnce)
        {
            FreshProcess.Result[] runs = await Task.WhenAll(delays.Skip(first).Take(AtOnce)
                .Select(delay => FreshProcess.RunAsync("cancel-after-read", EngineKind, RoundsEach, delay)));
            foreach (FreshProcess.Result run in runs)
            {
                Assert.True(run.Passed, $"After {first + runs.Length} of {Processes} fresh processes (cancel delays 0 to " +
                    $"{(Processes - 1) * StepMicroseconds} µs): {run.Describe()}");
            }
        }
    }

    // SPEC §4: the token cancels the operation "before submission" too: an operation waiting for room in the engine
    // (behind operations the kernel holds) ends cancelled when its token fires, without waiting for that room.
    [Fact]
    public async Task ReadAsync_WaitingForRoomInTheEngine_TokenCancelled_EndsWithOperationCanceled()
    {
        Require.Linux();
        const int Waiting = 64;
        _ = Host; // owned before the files, so disposed after them
        Task<int>[] holders = HoldRoom(RoomHolders, out Action release);
        AioFile file = OpenFile(CreatePatternFile("behind.bin", Waiting * 4096L));
        byte[][] buffers = Enumerable.Range(0, Waiting).Select(_ => Enumerable.Repeat((byte)0xEE, 4096).ToArray()).ToArray();
        using var cancel = new CancellationTokenSource();
        Task<int>[] waiting = Enumerable.Range(0, Waiting)
            .Select(i => file.ReadAsync(buffers[i], i * 4096L, cancel.Token).AsTask()).ToArray();
        for (int i = 0; i < Waiting; i++)
        {
            Assert.False(waiting[i].IsCompleted, $"Read {i} behind {RoomHolders} held operations ended before its token fired.");
        }

        await cancel.CancelAsync();
        for (int i = 0; i < Waiting; i++)
        {
            await Bounded.EndsCanceled(waiting[i],
                $"Read {i} of {Waiting}, waiting behind {RoomHolders} operations held in the engine, its token cancelled,", release);
            Assert.True(buffers[i].All(b => b == 0xEE), $"The buffer of cancelled read {i} was written.");
        }
        Assert.DoesNotContain(holders, h => h.IsCompleted); // the room stayed full: the reads were cancelled while waiting

        release();
        foreach (Task<int> holder in holders)
        {
            await Bounded.Ends(holder, "An operation holding the room, once released,", release);
        }
    }
}

/// <summary>Cancellation on the engines that wait for a FIFO cancellably (io_uring in the ring, Linux AIO and POSIX AIO on
/// their side path): the room is held by reads of an empty FIFO.</summary>
public abstract class FifoHeldAioFileCancellationTests : AioFileCancellationTests
{
    protected override Task<int>[] HoldRoom(int count, out Action release)
    {
        TestFifo fifo = Own(new TestFifo(PathOf("held.fifo")));
        AioFile file = OpenFile(fifo.Path);
        var cancel = Own(new CancellationTokenSource());
        Task<int>[] reads = Enumerable.Range(0, count).Select(_ => file.ReadAsync(new byte[64], 0, cancel.Token).AsTask()).ToArray();
        release = () =>
        {
            cancel.Cancel();        // the reads in the ring end at once
            fifo.Feed(count * 64);  // and any that a defect left uncancellable get data
        };
        ReleaseFirstAtEnd(release);
        return reads;
    }
}

public sealed class IoUringAioFileCancellationTests : FifoHeldAioFileCancellationTests
{
    public IoUringAioFileCancellationTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(limits.IsSupported, $"io_uring cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;
}

public sealed class LinuxAioFileCancellationTests : FifoHeldAioFileCancellationTests
{
    public LinuxAioFileCancellationTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.LinuxAio);
        Assert.SkipUnless(limits.IsSupported, $"Linux AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.LinuxAio;
}

public sealed class PosixAioFileCancellationTests : FifoHeldAioFileCancellationTests
{
    public PosixAioFileCancellationTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipUnless(limits.IsSupported, $"POSIX AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.PosixAio;
}

/// <summary>Cancellation on the thread-pool engine: the room is held by reads into memory that page-faults on
/// userfaultfd (every worker stuck in the kernel) and the reads queued behind them.</summary>
public sealed class ThreadPoolAioFileCancellationTests : AioFileCancellationTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;

    protected override Task<int>[] HoldRoom(int count, out Action release)
    {
        Require.Root();
        const int Stuck = 64; // more than the engine's workers (at most 16)
        UserfaultStall stall = NewStall(Stuck * 4096);
        AioFile file = OpenFile(CreatePatternFile("held.bin", 1 << 20));
        var reads = new Task<int>[count];
        for (int i = 0; i < count; i++)
        {
            reads[i] = i < Stuck
                ? file.ReadAsync(stall.Memory.Slice(i * 4096, 4096), 0).AsTask()
                : file.ReadAsync(new byte[4096], 4096).AsTask(); // queued behind the stuck ones
        }
        Assert.True(stall.WaitUntilFaulted(LongTimeout), "No worker reached the stalled copy.");
        release = stall.Release;
        return reads;
    }
}
