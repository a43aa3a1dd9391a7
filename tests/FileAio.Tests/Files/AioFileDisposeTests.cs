using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4, <see cref="AioFile.Dispose"/> and <see cref="AioFile.DisposeAsync"/> with operations in flight that could
/// never complete on their own: reads of a FIFO nobody writes to. Dispose must cancel them, wait until the kernel has
/// let go of their buffers, close the file and return. Each engine joins with a sealed subclass.
/// </summary>
public abstract class AioFileDisposeTests : FileAioTest
{
    private const int ReadLength = 64;
    private AioEngineHost? _host;

    protected abstract AioEngineKind EngineKind { get; }

    /// <summary>One engine thread: every file of a test shares it.</summary>
    protected AioEngineHost Host => _host ??= Own(AioEngineHost.Create(EngineKind, threads: 1));

    protected AioFile OpenFile(string path, FileMode mode = FileMode.Open) =>
        Own(AioFile.Open(path, mode, FileAccess.ReadWrite, new AioFileOptions { Host = Host, InlineCachedReads = false }));

    // SPEC §4: "Dispose/DisposeAsync cancel what is still in flight, wait until the kernel has let go of every buffer,
    // then close; they return even when an operation could never complete on its own (a read from an empty FIFO)".
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 4)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    public async Task Dispose_WithFifoReadsInFlight_CancelsThemReturnsAndClosesTheFile(bool asynchronous, int reads)
    {
        Require.Linux();
        _ = Host; // owned before the files, so disposed after them
        TestFifo fifo = Own(new TestFifo(PathOf("empty.fifo")));
        void Release() => fifo.Feed(reads * ReadLength); // enough for every read, should Dispose not have ended them
        ReleaseFirstAtEnd(Release);
        AioFile file = OpenFile(fifo.Path);
        byte[][] buffers = Enumerable.Range(0, reads).Select(_ => Enumerable.Repeat((byte)0xEE, ReadLength).ToArray()).ToArray();
        Task<int>[] inFlight = buffers.Select(b => file.ReadAsync(b, 0).AsTask()).ToArray();

        // An operation of another file after the reads, on the same engine thread: once it has completed, the engine
        // has taken the reads (it serves its thread's operations in order), so they are in the kernel, not on their way.
        AioFile other = OpenFile(PathOf("other.bin"), FileMode.CreateNew);
        Assert.Equal(100, await Bounded.Completes(other.WriteAsync(new byte[100], 0).AsTask(),
            "A write of another file on the same engine thread", Release));
        for (int i = 0; i < reads; i++)
        {
            Assert.False(inFlight[i].IsCompleted, $"Read {i} of an empty FIFO ended before Dispose: {Outcome(inFlight[i])}.");
        }

        Task disposing = asynchronous
            ? file.DisposeAsync().AsTask()
            : Task.Factory.StartNew(file.Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        string how = asynchronous ? "DisposeAsync" : "Dispose";
        await Bounded.Ends(disposing, $"{how} with {reads} FIFO read(s) in flight", Release);
        await disposing;
        for (int i = 0; i < reads; i++)
        {
            await Bounded.EndsCanceled(inFlight[i], $"Read {i} of {reads}, in flight when the file was disposed,", Release);
        }
        Assert.True(file.Handle.IsClosed, $"{how} returned with the handle still open.");
        Assert.Throws<ObjectDisposedException>(() => file.ReadAsync(new byte[1], 0));

        // Data fed now stays in the FIFO (nobody takes it) and never reaches the cancelled reads' buffers.
        int fed = fifo.Feed(reads * ReadLength);
        Assert.Equal(reads * ReadLength, fed);
        Assert.Equal(fed, fifo.Drain());
        for (int i = 0; i < reads; i++)
        {
            Assert.True(buffers[i].All(b => b == 0xEE), $"The buffer of cancelled read {i} was written.");
        }

        await other.DisposeAsync();
        fifo.Dispose();
        Assert.Empty(OpenDescriptorsInDirectory());
    }

    protected static string Outcome(Task<int> task) => task.Status switch
    {
        TaskStatus.RanToCompletion => $"{task.Result} bytes",
        TaskStatus.Faulted => $"{task.Exception!.InnerException!.GetType().Name}: {task.Exception.InnerException.Message}",
        TaskStatus.Canceled => "cancelled",
        _ => task.Status.ToString(),
    };
}

/// <summary>Dispose on the kernel engines: io_uring parks a FIFO read on the FIFO's wait queue; Linux AIO and POSIX AIO
/// wait for it in poll on their side path.</summary>
public abstract class KernelEngineAioFileDisposeTests : AioFileDisposeTests
{
}

public sealed class IoUringAioFileDisposeTests : KernelEngineAioFileDisposeTests
{
    public IoUringAioFileDisposeTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(limits.IsSupported, $"io_uring cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;
}

public sealed class LinuxAioFileDisposeTests : KernelEngineAioFileDisposeTests
{
    public LinuxAioFileDisposeTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.LinuxAio);
        Assert.SkipUnless(limits.IsSupported, $"Linux AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.LinuxAio;
}

public sealed class PosixAioFileDisposeTests : KernelEngineAioFileDisposeTests
{
    public PosixAioFileDisposeTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipUnless(limits.IsSupported, $"POSIX AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.PosixAio;
}

/// <summary>Dispose on the thread-pool engine: FIFO reads (which the engine must wait for in a cancellable way), and
/// reads queued behind workers that are all stuck in the kernel.</summary>
public sealed class ThreadPoolAioFileDisposeTests : AioFileDisposeTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;

    // SPEC §4: Dispose "cancel[s] what is still in flight" — a read the engine has not started yet can always be.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dispose_WithReadsQueuedBehindStuckWorkers_CancelsThemAndReturns(bool asynchronous)
    {
        Require.Linux();
        const int Blockers = 64, Queued = 4; // more blockers than the engine has workers (at most 16)
        _ = Host;
        UserfaultStall stall = NewStall(Blockers * 4096);
        AioFile blocked = OpenFile(CreatePatternFile("blocked.bin", 1 << 20));
        Task<int>[] blockers = Enumerable.Range(0, Blockers)
            .Select(i => blocked.ReadAsync(stall.Memory.Slice(i * 4096, 4096), 0).AsTask()).ToArray();
        Assert.True(stall.WaitUntilFaulted(LongTimeout), "No worker reached the stalled copy.");

        // Queued behind 64 reads stuck in page faults: no worker is free to take these.
        AioFile file = OpenFile(CreatePatternFile("queued.bin", 1 << 20));
        byte[][] buffers = Enumerable.Range(0, Queued).Select(_ => Enumerable.Repeat((byte)0xEE, 4096).ToArray()).ToArray();
        Task<int>[] queued = Enumerable.Range(0, Queued).Select(i => file.ReadAsync(buffers[i], i * 4096L).AsTask()).ToArray();
        for (int i = 0; i < Queued; i++)
        {
            Assert.False(queued[i].IsCompleted, $"Queued read {i} ended before Dispose: {Outcome(queued[i])}.");
        }

        Task disposing = asynchronous
            ? file.DisposeAsync().AsTask()
            : Task.Factory.StartNew(file.Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        string how = asynchronous ? "DisposeAsync" : "Dispose";
        await Bounded.Ends(disposing, $"{how} with {Queued} reads queued behind stuck workers", stall.Release);
        await disposing;
        for (int i = 0; i < Queued; i++)
        {
            await Bounded.EndsCanceled(queued[i], $"Queued read {i}, when the file was disposed,", stall.Release);
            Assert.True(buffers[i].All(b => b == 0xEE), $"The buffer of cancelled read {i} was written.");
        }
        Assert.True(file.Handle.IsClosed, $"{how} returned with the handle still open.");

        stall.Release();
        foreach (Task<int> blocker in blockers)
        {
            Assert.Equal(4096, await Bounded.Completes(blocker, "A stalled read, once released,", stall.Release));
        }
    }
}
