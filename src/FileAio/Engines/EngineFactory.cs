using FileAio.Engines.IoUring;
using FileAio.Engines.ThreadPool;

namespace FileAio.Engines;

/// <summary>
/// The one place that knows every engine: probes what works here and creates engines. Auto tries the engines in
/// order of preference and takes the first that works, deciding by trying, never by kernel version.
/// </summary>
internal static class EngineFactory
{
    /// <summary>Preference order for <see cref="AioEngineKind.Auto"/>.</summary>
    private static readonly AioEngineKind[] s_preference =
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
            AioEngineKind.LinuxAio or AioEngineKind.PosixAio =>
                new AioLimits(kind, false, 0, "This engine is not implemented in this version of FileAio."),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown engine kind."),
        };
    }

    /// <summary>Every concrete engine with its limits here, in Auto's order (for diagnostics such as <c>fileaio info</c>).</summary>
    public static IEnumerable<AioLimits> DescribeAll()
    {
        foreach (AioEngineKind kind in s_preference)
        {
            yield return GetLimits(kind);
        }
    }

    /// <summary>Creates an engine for a context of <paramref name="capacity"/> (already clamped to the engine's maximum).</summary>
    /// <exception cref="NotSupportedException">The engine cannot run here; the message says why.</exception>
    public static IAioEngine Create(AioEngineKind kind, int capacity, bool singleThreaded = false)
    {
        AioLimits limits = GetLimits(kind);
        if (!limits.IsSupported)
        {
            throw new NotSupportedException($"The {limits.Engine} engine cannot run here: {limits.UnsupportedReason}");
        }
        return limits.Engine switch
        {
            AioEngineKind.ThreadPool => new ThreadPoolEngine(capacity),
            AioEngineKind.IoUring => new IoUringEngine(capacity, IoUringProbe.Current, singleThreaded),
            _ => throw new NotSupportedException($"The {limits.Engine} engine is not implemented."),
        };
    }
}
