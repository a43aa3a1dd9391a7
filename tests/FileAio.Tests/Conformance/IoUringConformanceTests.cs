using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Conformance;

/// <summary>The conformance suite on io_uring. Skipped, with the kernel's reason, where io_uring cannot run.</summary>
public sealed class IoUringConformanceTests : ConformanceTests
{
    public IoUringConformanceTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(limits.IsSupported, $"io_uring cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;

    /// <summary>io_uring's first attempt runs inline in the submitting thread, where a page fault on userfaultfd memory
    /// would block Submit itself; a FIFO read or write instead waits on the FIFO, as io_uring parks it.</summary>
    protected override KernelHold CreateHold(int count)
    {
        Require.Linux();
        return new FifoHold(Directory, count);
    }
}
