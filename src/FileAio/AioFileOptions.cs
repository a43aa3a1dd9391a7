namespace FileAio;

/// <summary>How <see cref="AioFile.Open"/> opens a file.</summary>
public sealed class AioFileOptions
{
    /// <summary>Bypass the page cache (O_DIRECT on Linux). Transfers must then follow <see cref="AioFile.GetAlignment"/>;
    /// a transfer that does not is refused with an <see cref="ArgumentException"/> naming the rule.</summary>
    public bool Direct { get; init; }

    /// <summary>The engine, used when <see cref="Host"/> is not set: the process-wide host of that engine serves the
    /// file. <see cref="AioEngineKind.Auto"/> (the default) is io_uring where it works, else the thread-pool engine.</summary>
    public AioEngineKind Engine { get; init; } = AioEngineKind.Auto;

    /// <summary>A host of your own to run the file's operations (it must outlive the file).</summary>
    public AioEngineHost? Host { get; init; }

    /// <summary>How other opens may share the file, as for <see cref="File.OpenHandle"/>. Default: read.</summary>
    public FileShare Share { get; init; } = FileShare.Read;

    /// <summary>Space to reserve when the file is created or truncated (0: none), as for <see cref="File.OpenHandle"/>.</summary>
    public long PreallocationSize { get; init; }
}
