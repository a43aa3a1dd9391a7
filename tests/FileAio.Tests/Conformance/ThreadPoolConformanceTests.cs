namespace FileAio.Tests.Conformance;

/// <summary>The conformance suite on the portable thread-pool engine.</summary>
public sealed class ThreadPoolConformanceTests : ConformanceTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;
}
