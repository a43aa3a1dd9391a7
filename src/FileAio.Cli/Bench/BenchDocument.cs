using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using FileAio.Cli.Platform;

namespace FileAio.Cli.Bench;

/// <summary>
/// <c>fileaio bench --json</c>: one document, one element of <see cref="Cases"/> per case run (per round with
/// <c>--repeat</c>), serialized by <see cref="CliJsonContext"/> (docs/cli.md shows it). Numbers are rounded to what the
/// measurement can tell.
/// </summary>
internal sealed record BenchDocument(
    IReadOnlyList<BenchDocument.CaseResult> Cases,
    string File,
    long FileSize,
    [property: JsonPropertyName("warmup_s")] double WarmupSeconds,
    BenchDocument.HostFacts Host,
    [property: JsonPropertyName("wal_flush"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WalFlush)
{
    /// <summary>One run of one case.</summary>
    /// <param name="Errors">Operations that failed or moved fewer bytes than asked; <paramref name="FirstError"/>, only
    /// present when there were some, says what the first was.</param>
    /// <param name="Run">Which round of <c>--repeat</c>.</param>
    /// <param name="AllocScope">Where allocations were counted: <c>thread</c> or <c>process</c>.</param>
    /// <param name="VsRandomAccess">IOPS over the comparable RandomAccess case's; null without one.</param>
    /// <param name="VsFileStream">Wal only: commits/s over the comparable FileStream case's; left out without one.</param>
    internal sealed record CaseResult(
        string Api,
        string Engine,
        string Rw,
        [property: JsonPropertyName("bs")] int BlockSize,
        [property: JsonPropertyName("iodepth")] int IoDepth,
        bool Direct,
        int Jobs,
        [property: JsonPropertyName("runtime_s")] double RuntimeSeconds,
        long Ops,
        double Iops,
        double BytesPerSec,
        [property: JsonPropertyName("cpu_us_per_op")] double CpuMicrosecondsPerOp,
        double AllocBytesPerOp,
        [property: JsonPropertyName("lat_us")] LatencySummary Latency,
        long Errors,
        int Run,
        string AllocScope,
        [property: JsonPropertyName("vs_randomaccess")] double? VsRandomAccess,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FirstError,
        [property: JsonPropertyName("vs_filestream"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? VsFileStream);

    /// <summary>The machine the numbers come from.</summary>
    internal sealed record HostFacts(string Os, string? Kernel, int Cpus, string Dotnet, string? Fileaio);

    public static BenchDocument From(IReadOnlyList<BenchResult> results, BenchSettings settings) => new(
        [.. results.Select(Case)],
        settings.FilePath,
        settings.FileSize,
        settings.WarmupSeconds,
        new HostFacts(
            RuntimeInformation.OSDescription.Trim(),
            SystemLimits.KernelRelease,
            Environment.ProcessorCount,
            Environment.Version.ToString(),
            typeof(AioContext).Assembly.GetName().Version?.ToString(3)),
        results.Any(r => r.Case.Rw == ReadWriteMode.Wal) ? (settings.WalFlushWithWrite ? "with-write" : "after-write") : null);

    private static CaseResult Case(BenchResult r) => new(
        BenchNames.Name(r.Case.Api), r.Engine, BenchNames.Name(r.Case.Rw), r.Case.BlockSize, r.Case.IoDepth, r.Case.Direct, r.Case.Jobs,
        Math.Round(r.RuntimeSeconds, 3), r.Ops, Math.Round(r.Iops, 1), Math.Round(r.BytesPerSecond),
        Math.Round(r.CpuMicrosecondsPerOp, 3), Math.Round(r.AllocBytesPerOp, 3),
        new LatencySummary(Math.Round(r.Latency.P50, 2), Math.Round(r.Latency.P99, 2), Math.Round(r.Latency.P999, 2), Math.Round(r.Latency.Max, 2)),
        r.Errors, r.Round, r.AllocScope, r.VsRandomAccess is double ratio ? Math.Round(ratio, 3) : null, r.FirstError,
        r.VsFileStream is double streamRatio ? Math.Round(streamRatio, 3) : null);
}
