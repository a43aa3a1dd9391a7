using System.Reflection;
using FileAio.Engines;
using Xunit.Sdk;
using Xunit.v3;

namespace FileAio.Tests.Infrastructure;

/// <summary>One engine set-up the suites run on: an engine, and how it is set up (queue sizes, cancel path).</summary>
internal sealed record TestEngine(string Name, AioEngineKind Kind, EngineSettings Settings)
{
    /// <summary>Why it cannot run here, or null. CI runs where every engine can.</summary>
    public string? UnsupportedReason => AioContext.GetLimits(Kind) is { IsSupported: false } limits
        ? $"{Kind} cannot run here: {limits.UnsupportedReason}"
        : null;

    public void SkipUnlessSupported()
    {
        string? reason = UnsupportedReason;
        Assert.SkipWhen(reason is not null, reason ?? "");
    }
}

/// <summary>
/// Every engine set-up, listed once. Each runs the contract suite through contexts (shared by any thread, and owned by
/// one), the async suite through an engine host, and the model-based sequences on both layers: the next engine joins
/// all of them with one line here.
/// </summary>
internal static class TestEngines
{
    public static readonly TestEngine[] All =
    [
        new("io_uring", AioEngineKind.IoUring, default),
        // Kernels before 6.0 have no IORING_REGISTER_SYNC_CANCEL: cancel goes through an IORING_OP_ASYNC_CANCEL SQE.
        new("io_uring pre-6.0 cancel", AioEngineKind.IoUring, new EngineSettings { WithoutSyncCancel = true }),
        // A 4-entry SQ and an 8-entry CQ: every batch is split, and completions overflow into the kernel's list.
        new("io_uring tiny rings", AioEngineKind.IoUring, new EngineSettings { SubmissionQueueEntries = 4, CompletionQueueEntries = 8 }),
        new("thread pool", AioEngineKind.ThreadPool, default),
        new("linux aio", AioEngineKind.LinuxAio, default),
        // As Auto sets it up: buffered files on the side path, only O_DIRECT ones through io_submit.
        new("linux aio, buffered on side path", AioEngineKind.LinuxAio, new EngineSettings { BufferedOnSidePath = true }),
        new("posix aio", AioEngineKind.PosixAio, default),
    ];

    /// <summary>The contract layer's variants: each engine shared, and each owned by one thread (a SingleThreaded
    /// context: the engine an async host's thread drives, in the same mode).</summary>
    public static readonly ContextVariant[] Contexts =
        [.. All.Select(e => new ContextVariant(e, Owned: false)), .. All.Select(e => new ContextVariant(e, Owned: true))];

    /// <summary>The async layer's variants: each engine behind a host, with the page-cache fast path on and off (so
    /// that the engine serves every kind of read at least once).</summary>
    public static readonly HostVariant[] Hosts =
        [.. All.Select(e => new HostVariant(e, InlineCachedReads: true)), .. All.Select(e => new HostVariant(e, InlineCachedReads: false))];

    public static ContextVariant Context(string name) => Contexts.Single(v => v.Name == name);

    public static HostVariant Host(string name) => Hosts.Single(v => v.Name == name);
}

/// <summary>A context of one engine set-up; <paramref name="Owned"/>: created SingleThreaded, so every call but Wakeup
/// comes from the thread that created it.</summary>
internal sealed record ContextVariant(TestEngine Engine, bool Owned)
{
    public string Name => Owned ? Engine.Name + ", owned" : Engine.Name;

    public AioContext Create(int capacity, bool waitWithoutPendingRequests) =>
        AioContext.CreateWithSettings(capacity,
            new AioContextOptions { Engine = Engine.Kind, WaitWithoutPendingRequests = waitWithoutPendingRequests, SingleThreaded = Owned },
            Engine.Settings with { Owned = Owned });
}

/// <summary>An engine host of one engine set-up, and whether files use the page-cache fast path.</summary>
internal sealed record HostVariant(TestEngine Engine, bool InlineCachedReads)
{
    public string Name => InlineCachedReads ? Engine.Name : Engine.Name + ", no inline reads";

    public AioEngineHost Create(int threads) => AioEngineHost.Create(Engine.Kind, threads, Engine.Settings);
}

/// <summary>
/// Runs a contract test once per context variant (<see cref="TestEngines.Contexts"/>): the test's first parameter is
/// the variant's name, any further ones are given here (one attribute per row). Owned variants run a test only when
/// it keeps to one thread: mark a test that calls its context from other threads <see cref="AnyThread"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
internal sealed class EachContextAttribute(params object?[] arguments) : DataAttribute
{
    /// <summary>The test calls its context from several threads: owned contexts refuse that, so they sit it out.</summary>
    public bool AnyThread { get; init; }

    public override ValueTask<IReadOnlyCollection<ITheoryDataRow>> GetData(MethodInfo testMethod, DisposalTracker disposalTracker)
    {
        bool oneThread = !AnyThread && !typeof(Task).IsAssignableFrom(testMethod.ReturnType);
        IReadOnlyCollection<ITheoryDataRow> rows = TestEngines.Contexts
            .Where(v => oneThread || !v.Owned)
            .Select(v => (ITheoryDataRow)new TheoryDataRow([v.Name, .. arguments]))
            .ToArray();
        return new(rows);
    }

    public override bool SupportsDiscoveryEnumeration() => true;
}

/// <summary>Runs an async-layer test once per host variant (<see cref="TestEngines.Hosts"/>): the test's first
/// parameter is the variant's name, any further ones are given here (one attribute per row).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
internal sealed class EachHostAttribute(params object?[] arguments) : DataAttribute
{
    public override ValueTask<IReadOnlyCollection<ITheoryDataRow>> GetData(MethodInfo testMethod, DisposalTracker disposalTracker)
    {
        IReadOnlyCollection<ITheoryDataRow> rows = TestEngines.Hosts
            .Select(v => (ITheoryDataRow)new TheoryDataRow([v.Name, .. arguments]))
            .ToArray();
        return new(rows);
    }

    public override bool SupportsDiscoveryEnumeration() => true;
}
