namespace FileAio.Cli.Bench;

/// <summary>The access pattern, named as fio names it (<c>--rw</c>).</summary>
internal enum ReadWriteMode
{
    /// <summary>Sequential reads.</summary>
    Read,

    /// <summary>Sequential writes.</summary>
    Write,

    /// <summary>Reads at uniformly random block-aligned offsets.</summary>
    RandRead,

    /// <summary>Writes at uniformly random block-aligned offsets.</summary>
    RandWrite,

    /// <summary>Random offsets, each operation a read or a write with equal chance (fio's default 50/50 mix).</summary>
    RandRw,

    /// <summary>The write-ahead-log pattern: <c>iodepth</c> appenders, each taking the next block of one shared log
    /// (wrapping at the size), writing it and then waiting for it to be durable (fdatasync). One operation = one commit.</summary>
    Wal,
}
