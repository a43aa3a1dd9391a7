namespace FileAio.Faster.Tests;

// The whole suite on each engine a FileAioDevice is meant to run on: io_uring (Auto's choice on Linux) and the portable
// thread-pool engine (Auto's fallback where io_uring is blocked).

public sealed class DeviceTests_IoUring() : DeviceTests(AioEngineKind.IoUring);

public sealed class DeviceTests_ThreadPool() : DeviceTests(AioEngineKind.ThreadPool);

public sealed class FasterLogTests_IoUring() : FasterLogTests(AioEngineKind.IoUring);

public sealed class FasterLogTests_ThreadPool() : FasterLogTests(AioEngineKind.ThreadPool);

public sealed class FasterKvTests_IoUring() : FasterKvTests(AioEngineKind.IoUring);

public sealed class FasterKvTests_ThreadPool() : FasterKvTests(AioEngineKind.ThreadPool);

public sealed class DiskFullTests_IoUring() : DiskFullTests(AioEngineKind.IoUring);

public sealed class DiskFullTests_ThreadPool() : DiskFullTests(AioEngineKind.ThreadPool);

public sealed class CallbackContextTests_IoUring() : CallbackContextTests(AioEngineKind.IoUring);

public sealed class CallbackContextTests_ThreadPool() : CallbackContextTests(AioEngineKind.ThreadPool);

public sealed class ThrottleTests_IoUring() : ThrottleTests(AioEngineKind.IoUring);

public sealed class ThrottleTests_ThreadPool() : ThrottleTests(AioEngineKind.ThreadPool);

public sealed class SegmentRemovalTests_IoUring() : SegmentRemovalTests(AioEngineKind.IoUring);

public sealed class SegmentRemovalTests_ThreadPool() : SegmentRemovalTests(AioEngineKind.ThreadPool);

public sealed class DisposeTests_IoUring() : DisposeTests(AioEngineKind.IoUring);

public sealed class DisposeTests_ThreadPool() : DisposeTests(AioEngineKind.ThreadPool);

public sealed class CallbackFailureTests_IoUring() : CallbackFailureTests(AioEngineKind.IoUring);

public sealed class CallbackFailureTests_ThreadPool() : CallbackFailureTests(AioEngineKind.ThreadPool);

public sealed class ResetTests_IoUring() : ResetTests(AioEngineKind.IoUring);

public sealed class ResetTests_ThreadPool() : ResetTests(AioEngineKind.ThreadPool);

public sealed class ReissueTests_IoUring() : ReissueTests(AioEngineKind.IoUring);

public sealed class ReissueTests_ThreadPool() : ReissueTests(AioEngineKind.ThreadPool);

public sealed class EngineThreadCallbacksTests_IoUring() : EngineThreadCallbacksTests(AioEngineKind.IoUring);

public sealed class EngineThreadCallbacksTests_ThreadPool() : EngineThreadCallbacksTests(AioEngineKind.ThreadPool);
