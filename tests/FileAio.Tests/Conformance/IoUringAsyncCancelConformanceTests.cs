using FileAio.Engines.IoUring;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Conformance;

/// <summary>
/// The conformance suite on io_uring as it runs on kernels before 6.0, which lack IORING_REGISTER_SYNC_CANCEL:
/// cancel then goes through an IORING_OP_ASYNC_CANCEL SQE whose answer the canceller reaps itself. This kernel has
/// the newer path, so the engine is built with it switched off.
/// </summary>
public sealed class IoUringAsyncCancelConformanceTests : ConformanceTests
{
    public IoUringAsyncCancelConformanceTests()
    {
        Assert.SkipUnless(IoUringProbe.Current.IsSupported, $"io_uring cannot run here: {IoUringProbe.Current.Reason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;

    protected override AioContext CreateContext(int capacity, bool waitWithoutPendingRequests = false)
    {
        var options = new AioContextOptions { Engine = AioEngineKind.IoUring, WaitWithoutPendingRequests = waitWithoutPendingRequests };
        return AioContext.CreateWithSettings(capacity, options, new FileAio.Engines.EngineSettings { WithoutSyncCancel = true });
    }

    protected override KernelHold CreateHold(int count)
    {
        Require.Linux();
        return new FifoHold(Directory, count);
    }
}
