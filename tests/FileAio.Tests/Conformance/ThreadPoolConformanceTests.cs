using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Conformance;

/// <summary>The conformance suite on the portable thread-pool engine.</summary>
public sealed class ThreadPoolConformanceTests : ConformanceTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;

    /// <summary>Positional system calls are held by a copy that page-faults on userfaultfd memory (needs root).</summary>
    protected override KernelHold CreateHold(int count)
    {
        Require.Linux();
        Require.Root();
        return new UserfaultHold(OpenPatternFile(64 * 1024, "hold-source.bin"), Open(PathOf("hold-target.bin"), FileMode.CreateNew), count);
    }
}
