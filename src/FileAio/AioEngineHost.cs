using FileAio.Async;
using FileAio.Engines;

namespace FileAio;

/// <summary>
/// The threads that run <see cref="AioFile"/> operations: a few engine threads, each owning one engine (with io_uring,
/// a ring of its own, set up for one thread) and driving it in a loop. Files share <see cref="Shared"/> unless
/// <see cref="AioFileOptions.Host"/> names another.
/// </summary>
/// <remarks>
/// Each file is bound to one of the host's threads when it opens (round robin; a file opened on one of the host's
/// loop threads is bound to that one), so its operations, flushes included, are ordered on one engine. The threads run
/// no user code — continuations go to the thread pool — unless code is started on them through <see cref="Loops"/> or
/// <see cref="RunAsync(Func{Task}, CancellationToken)"/>: the thread-per-core mode (<see cref="AioLoop"/>).
/// </remarks>
public sealed class AioEngineHost : IDisposable
{
    private static readonly Lock s_sharedLock = new();
    private static readonly Dictionary<AioEngineKind, AioEngineHost> s_shared = [];

    private readonly EngineLoop[] _loops;
    private readonly AioLoop[] _publicLoops;
    private readonly bool _isShared;
    private int _next;
    private int _nextWork;
    private int _disposed;

    /// <summary>Whether this is the process-wide Auto host (<see cref="Shared"/>): files on FUSE opened with it go to the
    /// shared thread-pool host instead (see <see cref="AioFileOptions.Engine"/>).</summary>
    internal bool IsSharedAuto { get; private set; }

    private AioEngineHost(EngineLoop[] loops, AioEngineKind engine, bool isShared)
    {
        _loops = loops;
        _isShared = isShared;
        Engine = engine;
        _publicLoops = new AioLoop[loops.Length];
        for (int i = 0; i < loops.Length; i++)
        {
            _publicLoops[i] = new AioLoop(this, loops[i], i);
        }
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
        EngineSettings owned = settings with { Owned = true, DeferSubmission = true, RegisterOnFirstUse = true };
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

    /// <summary>The host's engine threads as loops that run code (<see cref="AioLoop"/>), one per thread: to run work on
    /// a chosen one, or one piece of work on each (thread per core). <see cref="Create(AioEngineKind, int)"/> with
    /// <c>threads: 0</c> gives one per core, at most 4.</summary>
    public IReadOnlyList<AioLoop> Loops => _publicLoops;

    /// <summary>Runs <paramref name="work"/> on the next of the host's loops, round robin (see
    /// <see cref="AioLoop.RunAsync(Func{Task}, CancellationToken)"/>, which says what that means).</summary>
    /// <exception cref="ObjectDisposedException">The host has been disposed.</exception>
    public Task RunAsync(Func<Task> work, CancellationToken cancellationToken = default) =>
        NextLoop().RunAsync(work, cancellationToken);

    /// <summary>Runs <paramref name="work"/> on the next of the host's loops, round robin (see
    /// <see cref="AioLoop.RunAsync{TResult}(Func{Task{TResult}}, CancellationToken)"/>).</summary>
    /// <exception cref="ObjectDisposedException">The host has been disposed.</exception>
    public Task<TResult> RunAsync<TResult>(Func<Task<TResult>> work, CancellationToken cancellationToken = default) =>
        NextLoop().RunAsync(work, cancellationToken);

    private AioLoop NextLoop() =>
        _publicLoops[(int)((uint)Interlocked.Increment(ref _nextWork) % (uint)_publicLoops.Length)];

    internal OperationPool Pool { get; } = new();

    /// <summary>The engine threads (for diagnostics and tests).</summary>
    internal IReadOnlyList<EngineLoop> EngineLoops => _loops;

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>The loop a file opening now is bound to: the caller's own loop when it runs on one of this host's
    /// (so that its operations take the loop's direct path), else the next one, round robin.</summary>
    internal EngineLoop AssignLoop()
    {
        ThrowIfDisposed();
        if (EngineLoop.Current is { } current && Array.IndexOf(_loops, current) >= 0)
        {
            return current;
        }
        int index = (int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length);
        return _loops[index];
    }

    /// <summary>Stops the host's threads after cancelling what is in flight; operations still queued complete as
    /// cancelled or with their result. Code running on its loops sees its operations cancelled and runs until nothing
    /// is queued; work posted to a loop afterwards runs on the thread pool. Files opened on it must not be used
    /// afterwards.</summary>
    /// <exception cref="InvalidOperationException">The host is a shared one, or the caller runs on one of its loops
    /// (a loop cannot wait for itself to end).</exception>
    public void Dispose()
    {
        if (_isShared)
        {
            throw new InvalidOperationException("The shared host lives as long as the process and cannot be disposed.");
        }
        if (Array.Exists(_loops, static l => l.IsLoopThread))
        {
            throw new InvalidOperationException("An engine host cannot be disposed from one of its own loops: dispose it from another thread.");
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
