namespace FileAio.Cli.Copy;

/// <summary>What a finished copy did.</summary>
internal sealed record CopyResult(long Bytes, string Engine, double CopySeconds, double VerifySeconds, bool Verified);
