namespace FileAio.Cli.Bench;

/// <summary>What every case of one bench run shares.</summary>
/// <param name="FilePath">The data file.</param>
/// <param name="FileSize">Bytes of it that the cases use (offsets stay below this).</param>
internal sealed record BenchSettings(string FilePath, long FileSize, double RuntimeSeconds, double WarmupSeconds, int Repeat);
