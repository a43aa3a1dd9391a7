using FileAio.Async;
using FileAio.Engines;

namespace FileAio;

/// <summary>
/// The threads that run <see cref="AioFile"/> operations: a few engine threads, each owning one engine (with io_uring,
/// a ring of its own, set up for one thread) and driving it in a loop. Files share <see cref="Shared"/> unless
/// <see cref="AioFileOptions.Host"/> names another.
/// </summary>
/// <remarks>
/// Each file is bound to one of the host's threads when it opens (round robin), so its operations, flushes included,
/// are ordered on one engine. The threads run no user code: continuations go to the thread pool.
/// </remarks>
public sealed class AioEngineHost : IDisposable
{
    private static readonly Lock s_sharedLock = new();
    private static readonly Dictionary<AioEngineKind, AioEngineHost> s_shared = [];

    private readonly EngineLoop[] _loops;
    private readonly bool _isShared;
    private int _next;
    private int _disposed;

    /// <summary>Whether this is the process-wide Auto host (<see cref="Shared"/>): files on FUSE opened with it go to the
    /// shared thread-pool host instead (see <see cref="AioFileOptions.Engine"/>).</summary>
    internal bool IsSharedAuto { get; private set; }

    private AioEngineHost(EngineLoop[] loops, AioEngineKind engine, bool isShared)
    {
        _loops = loops;
        _isShared = isShared;
        Engine = engine;
    }

    /// <summary>The process-wide host of the <see cref="AioEngineKind.Auto"/> engine, created on first use. It lives as
    /// long as the process and cannot be disposed.</summary>
    public static AioEngineHost Shared => GetShared(AioEngineKind.Auto);

    /// <summary>The process-wide host of one engine, created on first use.</summary>
    /// <exception cref="NotSupportedException">The engine cannot run here; the message says why.</exception>
    public static AioEngineHost GetShared(AioEngineKind engine)
    {
        lock (s_sharedLock)
        {
            if (!s_shared.TryGetValue(engine, out AioEngineHost? host))
            {
                host = CreateCore(engine, 0, isShared: true, default);
                host.IsSharedAuto = engine == AioEngineKind.Auto;
                s_shared[engine] = host;
            }
            return host;
        }
    }

    /// <summary>Creates a host that the caller owns and disposes.</summary>
    /// <param name="engine">The engine; Auto picks io_uring where it works, else the thread-pool engine.</param>
    /// <param name="threads">How many engine threads; 0 means one per core, at most 4.</param>
    /// <exception cref="NotSupportedException">The engine cannot run here; the message says why.</exception>
    public static AioEngineHost Create(AioEngineKind engine = AioEngineKind.Auto, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        return CreateCore(engine, threads, isShared: false, default);
    }

    /// <summary>A host whose engines are set up with <paramref name="settings"/> (tests: tiny rings).</summary>
    internal static AioEngineHost Create(AioEngineKind engine, int threads, EngineSettings settings) =>
        CreateCore(engine, threads, isShared: false, settings);

    private static AioEngineHost CreateCore(AioEngineKind engine, int threads, bool isShared, EngineSettings settings)
    {
        // One thread per core, at most 4: each engine thread can drive several hundred thousand operations a second,
        // and more threads than cores only adds wakeups.
        int count = threads > 0 ? threads : Math.Clamp(Environment.ProcessorCount, 1, 4);
        AioLimits limits = EngineFactory.GetLimits(engine);
        if (!limits.IsSupported)
        {
            throw new NotSupportedException($"The {limits.Engine} engine cannot run here: {limits.UnsupportedReason}");
        }
        // Each thread owns its engine, and submits in the same enter that reaps.
        EngineSettings owned = settings with { Owned = true, DeferSubmission = true };
        var loops = new EngineLoop[count];
        AioEngineKind created = limits.Engine;
        AioLimits[] passedOver = EngineFactory.PassedOverFor(engine, created);
        try
        {
            for (int i = 0; i < count; i++)
            {
                // Under Auto, a ring that the probe allowed but that cannot be set up now falls back to the next engine.
                loops[i] = EngineLoop.Start($"FileAio engine {i}", () =>
                    EngineFactory.Create(engine, EngineLoop.EngineCapacity, owned, out created, out passedOver, fallBack: true));
            }
        }
        catch
        {
            foreach (EngineLoop? loop in loops)
            {
                loop?.Dispose();
            }
            throw;
        }
        return new AioEngineHost(loops, created, isShared) { PassedOverEngines = passedOver };
    }

    /// <summary>The engine the host's threads drive.</summary>
    public AioEngineKind Engine { get; }

    /// <summary>Under <see cref="AioEngineKind.Auto"/>, the engines Auto prefers to <see cref="Engine"/> that cannot
    /// run here, each with <see cref="AioLimits.UnsupportedReason"/> saying why. Empty when an engine was named, or
    /// Auto's first choice runs.</summary>
    public IReadOnlyList<AioLimits> PassedOverEngines { get; private init; } = [];

    /// <summary>How many engine threads the host runs.</summary>
    public int ThreadCount => _loops.Length;

    internal OperationPool Pool { get; } = new();

    /// <summary>The engine threads (for diagnostics and tests).</summary>
    internal IReadOnlyList<EngineLoop> Loops => _loops;

    internal EngineLoop AssignLoop()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int index = (int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length);
        return _loops[index];
    }

    /// <summary>Stops the host's threads after cancelling what is in flight; operations still queued complete as
    /// cancelled or with their result. Files opened on it must not be used afterwards.</summary>
    /// <exception cref="InvalidOperationException">The host is a shared one.</exception>
    public void Dispose()
    {
        if (_isShared)
        {
            throw new InvalidOperationException("The shared host lives as long as the process and cannot be disposed.");
        }
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        foreach (EngineLoop loop in _loops)
        {
            loop.Dispose();
        }
    }
}
