namespace FileAio.Cli.Bench;

/// <summary>What every case of one bench run shares.</summary>
/// <param name="FilePath">The data file.</param>
/// <param name="FileSize">Bytes of it that the cases use (offsets stay below this).</param>
/// <param name="WalFlushWithWrite">--wal-flush with-write: an AioFile appender of --rw wal begins its flush right after
/// its write, without waiting for the write in between (the flush's barrier holds it until the write has completed).</param>
internal sealed record BenchSettings(string FilePath, long FileSize, double RuntimeSeconds, double WarmupSeconds, int Repeat,
    bool WalFlushWithWrite = false);
