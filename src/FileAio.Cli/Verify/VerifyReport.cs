namespace FileAio.Cli.Verify;

/// <summary>What a verify run found.</summary>
/// <param name="BadBlocks">Each bad block's offset and what is wrong with it, in offset order.</param>
internal sealed record VerifyReport(
    long Blocks, int BlockSize, long Bytes, ulong Seed, string Engine, double WriteSeconds, double ReadSeconds,
    IReadOnlyList<(long Offset, string Problem)> BadBlocks);
