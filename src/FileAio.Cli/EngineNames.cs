namespace FileAio.Cli;

/// <summary>The engine names of the command line (<c>auto|io_uring|linux-aio|posix-aio|threadpool</c>) and the rule
/// that an engine asked for by name either runs or is an error with FileAio's own reason — never a silent fallback.</summary>
internal static class EngineNames
{
    public const string Choices = "auto, io_uring, linux-aio, posix-aio, threadpool";

    public static AioEngineKind Parse(string text) => text.ToLowerInvariant() switch
    {
        "auto" => AioEngineKind.Auto,
        "io_uring" or "io-uring" or "iouring" => AioEngineKind.IoUring,
        "linux-aio" or "linux_aio" or "libaio" => AioEngineKind.LinuxAio,
        "posix-aio" or "posix_aio" => AioEngineKind.PosixAio,
        "threadpool" or "thread-pool" => AioEngineKind.ThreadPool,
        _ => throw new UsageException($"--engine: unknown engine '{text}' (choose {Choices})"),
    };

    public static string Name(AioEngineKind kind) => kind switch
    {
        AioEngineKind.Auto => "auto",
        AioEngineKind.IoUring => "io_uring",
        AioEngineKind.LinuxAio => "linux-aio",
        AioEngineKind.PosixAio => "posix-aio",
        AioEngineKind.ThreadPool => "threadpool",
        _ => kind.ToString(),
    };

    /// <summary>Throws <see cref="UsageException"/> with <see cref="AioLimits.UnsupportedReason"/> when
    /// <paramref name="kind"/> cannot run here. Auto always can (the thread pool works everywhere).</summary>
    public static void RequireSupported(AioEngineKind kind)
    {
        AioLimits limits = AioContext.GetLimits(kind);
        if (!limits.IsSupported)
        {
            throw new UsageException($"engine {Name(kind)} cannot run here: {limits.UnsupportedReason}");
        }
    }
}
