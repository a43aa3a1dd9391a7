namespace FileAio.Cli.Bench;

/// <summary>One combination of the bench matrix.</summary>
/// <param name="Engine">The engine asked for (Auto for the .NET apis, which use none).</param>
/// <param name="IoDepth">Operations in flight per job (1 for <see cref="BenchApi.Sync"/>).</param>
internal sealed record BenchCase(BenchApi Api, AioEngineKind Engine, ReadWriteMode Rw, int BlockSize, int IoDepth, bool Direct, int Jobs)
{
    /// <summary>The RandomAccess case this one is compared with: same workload, same cache mode.</summary>
    public bool IsComparableTo(BenchCase other) =>
        Rw == other.Rw && BlockSize == other.BlockSize && IoDepth == other.IoDepth && Direct == other.Direct && Jobs == other.Jobs;
}
