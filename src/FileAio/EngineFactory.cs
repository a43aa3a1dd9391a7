using FileAio.Engines;
using FileAio.Engines.IoUring;
using FileAio.Engines.LinuxAio;
using FileAio.Engines.PosixAio;
using FileAio.Engines.ThreadPool;

namespace FileAio;

/// <summary>
/// The one place that knows every engine: what each can do here, Auto's order of preference, and how each is
/// created — for a context and for an engine thread of an async host alike. Auto takes the first engine that works,
/// deciding by trying, never by kernel version.
/// </summary>
internal static class EngineFactory
{
    /// <summary>Preference order for <see cref="AioEngineKind.Auto"/>. POSIX AIO is never picked by Auto: on glibc it
    /// serialises each descriptor (slower than the thread-pool engine), on macOS it holds 16 requests per process, and
    /// its FreeBSD path has been compiled but never run. Asked for by name, it runs wherever its probe passes.</summary>
    private static readonly AioEngineKind[] s_preference =
    [
        AioEngineKind.IoUring,
        AioEngineKind.LinuxAio,
        AioEngineKind.ThreadPool,
    ];

    /// <summary>Every concrete engine, in the order diagnostics list them.</summary>
    private static readonly AioEngineKind[] s_all =
    [
        AioEngineKind.IoUring,
        AioEngineKind.LinuxAio,
        AioEngineKind.PosixAio,
        AioEngineKind.ThreadPool,
    ];

    /// <summary>What <paramref name="kind"/> can do here; for Auto, the limits of the engine Auto would pick.</summary>
    public static AioLimits GetLimits(AioEngineKind kind)
    {
        if (kind == AioEngineKind.Auto)
        {
            foreach (AioEngineKind candidate in s_preference)
            {
                AioLimits limits = GetLimits(candidate);
                if (limits.IsSupported)
                {
                    return limits;
                }
            }
            // ThreadPool always works, so this is not reached; keep the compiler and the reader sure of it.
            throw new InvalidOperationException("No FileAio engine works on this machine.");
        }

        return kind switch
        {
            AioEngineKind.ThreadPool => new AioLimits(kind, true, ThreadPoolEngine.MaxOutstanding, null),
            AioEngineKind.IoUring => IoUringProbe.Current is { IsSupported: true }
                ? new AioLimits(kind, true, IoUringEngine.MaxOutstanding, null)
                : new AioLimits(kind, false, 0, IoUringProbe.Current.Reason),
            AioEngineKind.LinuxAio => LinuxAioProbe.Current is { IsSupported: true }
                ? new AioLimits(kind, true, LinuxAioProbe.ContextLimit(LinuxAioEngine.MaxOutstanding), null)
                : new AioLimits(kind, false, 0, LinuxAioProbe.Current.Reason),
            AioEngineKind.PosixAio => PosixAioProbe.Current is { IsSupported: true } posix
                ? new AioLimits(kind, true, posix.MaxOutstanding, null)
                : new AioLimits(kind, false, 0, PosixAioProbe.Current.Reason),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown engine kind."),
        };
    }

    /// <summary>Every concrete engine with its limits here (for diagnostics such as <c>fileaio info</c>).</summary>
    public static IEnumerable<AioLimits> DescribeAll()
    {
        foreach (AioEngineKind kind in s_all)
        {
            yield return GetLimits(kind);
        }
    }

    /// <summary>Under Auto, the engines preferred to <paramref name="chosen"/> that cannot run here, each with its
    /// reason; empty when an engine was named or Auto's first choice runs.</summary>
    /// <param name="asked">The engine asked for.</param>
    /// <param name="chosen">The engine that runs.</param>
    /// <param name="refusedNow">Engines whose probe passed but which could not be set up just now, with that reason.</param>
    public static AioLimits[] PassedOverFor(AioEngineKind asked, AioEngineKind chosen, List<AioLimits>? refusedNow = null)
    {
        if (asked != AioEngineKind.Auto)
        {
            return [];
        }
        var passedOver = new List<AioLimits>();
        foreach (AioEngineKind kind in s_preference)
        {
            if (kind == chosen)
            {
                break;
            }
            int refused = refusedNow?.FindIndex(r => r.Engine == kind) ?? -1;
            passedOver.Add(refused >= 0 ? refusedNow![refused] : GetLimits(kind));
        }
        return passedOver.ToArray();
    }

    /// <summary>
    /// Creates an engine able to hold <paramref name="capacity"/> operations (already within the engine's maximum).
    /// An owned engine (<see cref="EngineSettings.Owned"/>) must be created on the thread that will drive it.
    /// </summary>
    /// <param name="kind">The engine; Auto is resolved to the one that works here.</param>
    /// <param name="capacity">Most operations in flight.</param>
    /// <param name="settings">Who drives it, and queue sizes for tests.</param>
    /// <param name="created">The engine that was created (never Auto).</param>
    /// <param name="passedOver">Under Auto, the engines preferred to <paramref name="created"/> that could not run, each
    /// with its reason (a probe's refusal, or why this instance could not be set up).</param>
    /// <param name="fallBack">Under Auto, when the preferred engine passed its probe but this instance could not be
    /// set up (a ring refused for lack of memory, say), take the next engine instead of failing.</param>
    /// <exception cref="NotSupportedException">The engine cannot run here; the message says why.</exception>
    public static IAioEngine Create(AioEngineKind kind, int capacity, EngineSettings settings, out AioEngineKind created,
        out AioLimits[] passedOver, bool fallBack = false)
    {
        AioLimits limits = GetLimits(kind);
        if (!limits.IsSupported)
        {
            throw new NotSupportedException($"The {limits.Engine} engine cannot run here: {limits.UnsupportedReason}");
        }
        List<AioLimits>? refusedNow = null;
        while (true)
        {
            created = limits.Engine;
            try
            {
                IAioEngine engine = CreateCore(limits.Engine, Math.Min(capacity, limits.MaxOutstanding), ForAuto(kind, limits.Engine, settings));
                passedOver = PassedOverFor(kind, created, refusedNow);
                return engine;
            }
            catch (NotSupportedException e) when (fallBack && kind == AioEngineKind.Auto && limits.Engine != AioEngineKind.ThreadPool)
            {
                (refusedNow ??= []).Add(new AioLimits(limits.Engine, false, 0, e.Message));
                limits = NextSupportedAfter(limits.Engine);
            }
        }
    }

    /// <summary>Under Auto, Linux AIO serves only O_DIRECT files itself: buffered ones would make io_submit do the
    /// whole transfer, so its side path (worker threads) takes them.</summary>
    private static EngineSettings ForAuto(AioEngineKind asked, AioEngineKind engine, EngineSettings settings) =>
        asked == AioEngineKind.Auto && engine == AioEngineKind.LinuxAio ? settings with { BufferedOnSidePath = true } : settings;

    private static AioLimits NextSupportedAfter(AioEngineKind engine)
    {
        for (int i = Array.IndexOf(s_preference, engine) + 1; i < s_preference.Length; i++)
        {
            AioLimits limits = GetLimits(s_preference[i]);
            if (limits.IsSupported)
            {
                return limits;
            }
        }
        return GetLimits(AioEngineKind.ThreadPool);
    }

    private static IAioEngine CreateCore(AioEngineKind engine, int capacity, EngineSettings settings) => engine switch
    {
        AioEngineKind.ThreadPool => new ThreadPoolEngine(),
        AioEngineKind.IoUring => new IoUringEngine(capacity, IoUringProbe.Current, settings),
        AioEngineKind.LinuxAio => new LinuxAioEngine(capacity, settings),
        AioEngineKind.PosixAio => new PosixAioEngine(capacity),
        _ => throw new NotSupportedException($"The {engine} engine is not implemented."),
    };
}
