using FileAio.Async;
using FileAio.Engines;
using FileAio.Engines.IoUring;

namespace FileAio;

/// <summary>
/// The threads that run <see cref="AioFile"/> operations: with io_uring, a few ring threads that each own a ring;
/// elsewhere, threads that wait on an <see cref="AioContext"/> of the fallback engine. Files share
/// <see cref="Shared"/> unless <see cref="AioFileOptions.Host"/> names another.
/// </summary>
/// <remarks>
/// Each file is bound to one of the host's threads when it opens (round robin), so its operations, flushes included,
/// are ordered on one ring. The threads run no user code: continuations go to the thread pool.
/// </remarks>
public sealed class AioEngineHost : IDisposable
{
    private static readonly Lock s_sharedLock = new();
    private static readonly Dictionary<AioEngineKind, AioEngineHost> s_shared = [];

    private readonly IAsyncWorker[] _workers;
    private readonly bool _isShared;
    private int _next;
    private int _disposed;

    /// <summary>Whether this is the process-wide Auto host (<see cref="Shared"/>): files on FUSE opened with it go to the
    /// shared thread-pool host instead (see <see cref="AioFileOptions.Engine"/>).</summary>
    internal bool IsSharedAuto { get; private set; }

    private AioEngineHost(IAsyncWorker[] workers, bool isShared)
    {
        _workers = workers;
        _isShared = isShared;
        Engine = workers[0].Engine;
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
                host = CreateCore(engine, 0, isShared: true);
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
        return CreateCore(engine, threads, isShared: false);
    }

    private static AioEngineHost CreateCore(AioEngineKind engine, int threads, bool isShared)
    {
        // One thread per core, at most 4: each ring thread can drive several hundred thousand operations a second,
        // and more threads than cores only adds wakeups.
        int count = threads > 0 ? threads : Math.Clamp(Environment.ProcessorCount, 1, 4);
        AioLimits limits = EngineFactory.GetLimits(engine);
        if (!limits.IsSupported)
        {
            throw new NotSupportedException($"The {limits.Engine} engine cannot run here: {limits.UnsupportedReason}");
        }

        var workers = new IAsyncWorker[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                workers[i] = CreateWorker(limits.Engine, engine == AioEngineKind.Auto, i);
            }
        }
        catch
        {
            foreach (IAsyncWorker? worker in workers)
            {
                worker?.Dispose();
            }
            throw;
        }
        return new AioEngineHost(workers, isShared);
    }

    private static IAsyncWorker CreateWorker(AioEngineKind engine, bool auto, int index)
    {
        if (engine != AioEngineKind.IoUring)
        {
            return new ContextWorker(engine, index);
        }
        IoUringRingWorker? ring = IoUringRingWorker.TryCreate(index, out int errno);
        if (ring is not null)
        {
            return ring;
        }
        if (auto)
        {
            return new ContextWorker(AioEngineKind.ThreadPool, index); // the probe passed but this ring failed
        }
        throw new NotSupportedException($"The IoUring engine cannot run here: {IoUringProbe.DescribeSetupError(errno)}");
    }

    /// <summary>The engine the host's threads drive.</summary>
    public AioEngineKind Engine { get; }

    /// <summary>How many engine threads the host runs.</summary>
    public int ThreadCount => _workers.Length;

    internal OperationPool Pool { get; } = new();

    /// <summary>The engine threads (for diagnostics and tests).</summary>
    internal IReadOnlyList<IAsyncWorker> Workers => _workers;

    internal IAsyncWorker AssignWorker()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int index = (int)((uint)Interlocked.Increment(ref _next) % (uint)_workers.Length);
        return _workers[index];
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
        foreach (IAsyncWorker worker in _workers)
        {
            worker.Dispose();
        }
    }
}
