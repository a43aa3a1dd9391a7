using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4, a ValueTask misused: its result read before it completed, or a second time. Each must throw
/// InvalidOperationException and change nothing; the read behind it must still return its own bytes, and the host's
/// pooled operations must stay one per caller (many later reads each return exactly theirs). A library that gets this
/// wrong hands one pooled operation to two owners and then dies on an engine thread, so each case runs in a process of
/// its own (tests/FileAio.FreshProcess, scenarios "early-result" and "second-result") and the test reads its verdict.
/// </summary>
public abstract class AioFileMisuseTests
{
    protected abstract AioEngineKind EngineKind { get; }

    /// <summary>Skips where the scenario's held read cannot be made (it needs Linux; the thread-pool one needs root).</summary>
    protected abstract void RequireHeldRead();

    // SPEC §4: "Reading its result early (before completion) ... throws InvalidOperationException and changes nothing;
    // the pooled operation behind it is reused only after its one valid read."
    [Fact]
    public async Task Result_WhileTheReadIsPending_ThrowsInvalidOperation_AndTheReadStillCompletesWithItsBytes()
    {
        RequireHeldRead();
        FreshProcess.Result run = await FreshProcess.RunAsync("early-result", EngineKind);
        Assert.True(run.Passed, run.Describe());
    }

    // SPEC §7: a flush after the caller closed AioFile.Handle must fail to its caller, not end the process.
    [Fact]
    public async Task FlushAsync_AfterTheCallerClosedTheHandle_FailsWithoutEndingTheProcess()
    {
        Require.Linux();
        FreshProcess.Result run = await FreshProcess.RunAsync("flush-after-handle-closed", EngineKind);
        Assert.True(run.Passed, run.Describe());
    }

    // SPEC §4: "A returned ValueTask is consumed once. Reading its result ... twice throws InvalidOperationException and
    // changes nothing."
    [Fact]
    public async Task Result_AfterAsTaskConsumedTheValueTask_ThrowsInvalidOperation_AndLaterReadsGetTheirOwnBytes()
    {
        RequireHeldRead();
        FreshProcess.Result run = await FreshProcess.RunAsync("second-result", EngineKind);
        Assert.True(run.Passed, run.Describe());
    }
}

/// <summary>Misuse on the engines whose held read is a read of an empty FIFO (io_uring, Linux AIO, POSIX AIO).</summary>
public abstract class FifoHeldAioFileMisuseTests : AioFileMisuseTests
{
    protected override void RequireHeldRead() => Require.Linux();
}

public sealed class IoUringAioFileMisuseTests : FifoHeldAioFileMisuseTests
{
    public IoUringAioFileMisuseTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(limits.IsSupported, $"io_uring cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;
}

public sealed class LinuxAioFileMisuseTests : FifoHeldAioFileMisuseTests
{
    public LinuxAioFileMisuseTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.LinuxAio);
        Assert.SkipUnless(limits.IsSupported, $"Linux AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.LinuxAio;
}

public sealed class PosixAioFileMisuseTests : FifoHeldAioFileMisuseTests
{
    public PosixAioFileMisuseTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipUnless(limits.IsSupported, $"POSIX AIO cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.PosixAio;
}

/// <summary>Misuse on the thread-pool engine: the held read copies into memory that page-faults on userfaultfd.</summary>
public sealed class ThreadPoolAioFileMisuseTests : AioFileMisuseTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;

    protected override void RequireHeldRead()
    {
        Require.Linux();
        Require.Root();
    }
}
