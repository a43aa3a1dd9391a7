namespace FileAio.Cli.Verify;

/// <summary>What <c>fileaio verify</c> was asked to do, checked.</summary>
/// <param name="Size">Bytes to write (ignored with <paramref name="ReadOnly"/>: the file's length is used).</param>
/// <param name="BlockSize">Block size, or null with <paramref name="ReadOnly"/> to take it from the first block.</param>
/// <param name="Seed">The run's seed, or null: a new one when writing, the file's own when reading only.</param>
internal sealed record VerifyOptions(
    string Path, long Size, int? BlockSize, int IoDepth, bool Direct, AioEngineKind Engine, ulong? Seed, bool ReadOnly);
