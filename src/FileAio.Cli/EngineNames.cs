namespace FileAio.Cli;

/// <summary>The engine names of the command line (<c>auto|io_uring|linux-aio|posix-aio|threadpool</c>) and the rule
/// that an engine asked for by name either runs or is an error with FileAio's own reason — never a silent fallback.</summary>
internal static class EngineNames
{
    public const string Choices = "auto, io_uring, linux-aio, posix-aio, threadpool";

    /// <summary>An <c>--engine</c> word (a <see cref="Commands.ValueReader{T}"/>): null, or why it names no engine.</summary>
    public static string? Read(string text, out AioEngineKind kind)
    {
        (bool known, kind) = text.ToLowerInvariant() switch
        {
            "auto" => (true, AioEngineKind.Auto),
            "io_uring" or "io-uring" or "iouring" => (true, AioEngineKind.IoUring),
            "linux-aio" or "linux_aio" or "libaio" => (true, AioEngineKind.LinuxAio),
            "posix-aio" or "posix_aio" => (true, AioEngineKind.PosixAio),
            "threadpool" or "thread-pool" => (true, AioEngineKind.ThreadPool),
            _ => (false, AioEngineKind.Auto),
        };
        return known ? null : $"unknown engine '{text}' (choose {Choices})";
    }

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
