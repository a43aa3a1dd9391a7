using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4, <see cref="AioFile.FlushAsync"/>: a barrier for its own file only, and cancellable while it waits at that
/// barrier. The host has one engine thread, so that every file of a test shares it (and shares whatever the engine
/// keeps per thread). Each engine joins with a sealed subclass that holds a write of one file inside the kernel.
/// </summary>
public abstract partial class AioFileFlushTests : FileAioTest
{
    private AioEngineHost? _host;

    protected abstract AioEngineKind EngineKind { get; }

    /// <summary>One engine thread: every file opened on it shares it.</summary>
    protected AioEngineHost Host => _host ??= Own(AioEngineHost.Create(EngineKind, threads: 1));

    /// <summary>A file whose write is held inside the kernel until <c>Release</c> (idempotent; also run at the end).</summary>
    protected abstract (AioFile File, Task<int> Write, Action Release) HeldWrite();

    protected AioFile OpenFile(string path, FileMode mode, FileAccess access = FileAccess.ReadWrite) =>
        Own(AioFile.Open(path, mode, access, new AioFileOptions { Host = Host }));

    /// <summary>Whether an fsync of <see cref="HeldWrite"/>'s file fails (EINVAL: a FIFO has nothing to sync).</summary>
    protected abstract bool HeldFileFsyncFails { get; }

    // SPEC §4: "FlushAsync is a barrier for its own file ... and waits for no other file's operations".
    [Fact]
    public async Task FlushAsync_WhileAnotherFilesWriteIsHeld_CompletesWithoutWaitingForIt()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        Assert.False(heldWrite.IsCompleted, "The held write completed at once: the test's premise does not hold.");

        AioFile other = OpenFile(PathOf("other.bin"), FileMode.CreateNew);
        byte[] data = Enumerable.Range(0, 8192).Select(i => PatternByte(i)).ToArray();
        Assert.Equal(data.Length, await Bounded.Completes(other.WriteAsync(data, 0).AsTask(),
            "A write of another file on the same engine thread", release));
        await Bounded.Completes(other.FlushAsync().AsTask(),
            $"FlushAsync of {other.Path}, while a write of another file ({held.Path}) was held on the same engine thread,", release);
        await Bounded.Completes(other.FlushAsync(dataOnly: true).AsTask(),
            "FlushAsync(dataOnly) of a file, while a write of another file was held on the same engine thread,", release);
        Assert.False(heldWrite.IsCompleted, "The held write completed before it was released: the test proved nothing.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
        await other.DisposeAsync();
        Assert.Equal(data, File.ReadAllBytes(other.Path));
    }

    // SPEC §4: "CancellationToken cancels ... whenever it fires — before submission, during it, or while the operation
    // is in flight; a cancelled call completes with OperationCanceledException" — a flush held at its file's barrier too.
    [Fact]
    public async Task FlushAsync_HeldBehindItsFilesWrite_TokenCancelled_EndsWithOperationCanceled()
    {
        (AioFile held, Task<int> heldWrite, Action release) = HeldWrite();
        using var cancel = new CancellationTokenSource();
        Task flush = held.FlushAsync(false, cancel.Token).AsTask();
        // An operation of another file after the flush, on the same engine thread: once it has completed, the engine
        // has taken the flush (it serves its thread's operations in order), so the cancel below finds the flush held
        // at its barrier rather than still on its way in.
        AioFile other = OpenFile(PathOf("other.bin"), FileMode.CreateNew);
        Assert.Equal(100, await Bounded.Completes(other.WriteAsync(new byte[100], 0).AsTask(),
            "A write of another file on the same engine thread", release));
        Assert.False(flush.IsCompleted, "The flush behind a held write of its file completed: the premise does not hold.");

        await cancel.CancelAsync();
        await Bounded.EndsCanceled(flush, "FlushAsync held behind a write of its own file, its token cancelled,", release);
        Assert.False(heldWrite.IsCompleted, "The held write completed before it was released: the test proved nothing.");

        release();
        Assert.True(await Bounded.Completes(heldWrite, "The held write, once released,", release) > 0);
    }
}

/// <summary>The flush rules on the engines that hold a write into a full FIFO (io_uring in the ring, Linux AIO and POSIX AIO
/// on their side path).</summary>
public abstract class FifoHeldAioFileFlushTests : AioFileFlushTests
{
    /// <summary>io_uring parks a write into a full FIFO on the FIFO's wait queue until room is made.</summary>
    protected override (AioFile File, Task<int> Write, Action Release) HeldWrite()
    {
        Require.Linux();
        _ = Host; // owned before the files, so disposed after them
        TestFifo fifo = Own(new TestFifo(PathOf("full.fifo")));
        fifo.Fill();
        AioFile file = OpenFile(fifo.Path, FileMode.Open);
        Task<int> write = file.WriteAsync(new byte[512], 0).AsTask();
        void Release() => fifo.Drain();
        ReleaseFirstAtEnd(Release);
        return (file, write, Release);
    }

    protected override bool HeldFileFsyncFails => true;

    /// <summary>A full FIFO nothing has written to yet: the next write into it is held until the release.</summary>
    private (AioFile File, Action Release) FullFifo()
    {
        Require.Linux();
        _ = Host;
        TestFifo fifo = Own(new TestFifo(PathOf("full.fifo")));
        fifo.Fill();
        void Release() => fifo.Drain();
        ReleaseFirstAtEnd(Release);
        return (OpenFile(fifo.Path, FileMode.Open), Release);
    }

    // FlushGroup, remark 2: the flushes one loop turn takes of a regular file share an fsync placed behind the turn's
    // writes; a FIFO's write may never end, so there a flush still waits for no write begun after it.
    [Fact]
    public async Task FlushAsync_BegunJustBeforeAWriteThatIsHeld_InOneLoopTurn_DoesNotWaitForIt()
    {
        (AioFile fifo, Action release) = FullFifo();
        Task flush = null!;
        Task<int> write = null!;
        await Bounded.Completes(Host.Loops[0].RunAsync(() =>
        {
            flush = fifo.FlushAsync().AsTask();                // both begun by loop code, no await between them:
            write = fifo.WriteAsync(new byte[512], 0).AsTask(); // the loop's next turn takes them together
            return Task.CompletedTask;
        }), "Loop code that begins a flush and a write", release);

        await Bounded.Ends(flush, "A flush begun just before a held write of its file, in one loop turn,", release);
        Assert.IsType<IOException>(flush.Exception?.InnerException); // EINVAL: a FIFO has nothing to sync
        Assert.False(write.IsCompleted, "The write into the full FIFO completed: the test proved nothing.");
        release();
        Assert.Equal(512, await Bounded.Completes(write, "The held write, once released,", release));
    }

    // The same from callers off the loop: the loop is kept busy while both are queued, so one turn takes both.
    [Fact]
    public async Task FlushAsync_QueuedJustBeforeAWriteThatIsHeld_TakenInOneTurn_DoesNotWaitForIt()
    {
        (AioFile fifo, Action release) = FullFifo();
        using var busy = new ManualResetEventSlim();
        using var free = new ManualResetEventSlim();
        Task blocker = Host.Loops[0].RunAsync(() =>
        {
            busy.Set();
            free.Wait(Bounded.Bound); // blocks the loop (a test's deliberate misuse) while both are queued to it
            return Task.CompletedTask;
        });
        Assert.True(busy.Wait(Bounded.Bound), "The loop never ran the blocking work item.");
        Task flush = fifo.FlushAsync().AsTask();
        Task<int> write = fifo.WriteAsync(new byte[512], 0).AsTask();
        free.Set();
        await Bounded.Completes(blocker, "The blocking work item", release);

        await Bounded.Ends(flush, "A flush queued just before a held write of its file, taken in one loop turn,", release);
        Assert.IsType<IOException>(flush.Exception?.InnerException);
        Assert.False(write.IsCompleted, "The write into the full FIFO completed: the test proved nothing.");
        release();
        Assert.Equal(512, await Bounded.Completes(write, "The held write, once released,", release));
    }
}

public sealed class IoUringAioFileFlushTests : FifoHeldAioFileFlushTests
{
    public IoUringAioFileFlushTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(limits.IsSupported, $"io_uring cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;
}

public sealed class LinuxAioFileFlushTests : FifoHeldAioFileFlushTests
{
    public LinuxAioFileFlushTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.LinuxAio);
        Assert.SkipUnless(limits.IsSupported, $"Linux AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.LinuxAio;
}

public sealed class PosixAioFileFlushTests : FifoHeldAioFileFlushTests
{
    public PosixAioFileFlushTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipUnless(limits.IsSupported, $"POSIX AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.PosixAio;
}

/// <summary>The flush rules on the thread-pool engine: the held write copies from memory that page-faults on
/// userfaultfd, so a worker is stuck inside pwrite (needs root).</summary>
public sealed class ThreadPoolAioFileFlushTests : AioFileFlushTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;

    protected override (AioFile File, Task<int> Write, Action Release) HeldWrite()
    {
        Require.Linux();
        _ = Host;
        UserfaultStall stall = NewStall(4096);
        AioFile file = OpenFile(PathOf("held.bin"), FileMode.CreateNew);
        Task<int> write = file.WriteAsync(stall.Memory, 0).AsTask();
        Assert.True(stall.WaitUntilFaulted(LongTimeout), "The write never reached the kernel's copy.");
        return (file, write, stall.Release);
    }

    protected override bool HeldFileFsyncFails => false;
}
