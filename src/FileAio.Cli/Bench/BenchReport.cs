using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace FileAio.Cli.Bench;

/// <summary>How bench results are shown: one table (with notes under it), or one JSON document.</summary>
internal static class BenchReport
{
    /// <summary>"context", "randread 4k qd32", "cached": the words a case is described by in tables and progress.</summary>
    public static string Workload(BenchCase c) => c.Rw == ReadWriteMode.Wal
        ? $"wal {Sizes.Short(c.BlockSize)} {c.IoDepth} appender{(c.IoDepth == 1 ? "" : "s")}"
        : $"{BenchNames.Name(c.Rw)} {Sizes.Short(c.BlockSize)} qd{c.IoDepth}" + (c.Jobs > 1 ? $" x{c.Jobs} jobs" : "");

    public static string Mode(BenchCase c) => c.Direct ? "direct" : "cached";

    public static string Describe(BenchCase c) => $"{BenchNames.Name(c.Api)} {Workload(c)} {Mode(c)}";

    public static void WriteTable(Terminal terminal, IReadOnlyList<BenchResult> results, BenchSettings settings)
    {
        bool rounds = settings.Repeat > 1;
        var table = new Table().Border(TableBorder.Rounded);
        if (rounds)
        {
            table.AddColumn(new TableColumn("run").RightAligned());
        }
        table.AddColumn("api").AddColumn("engine").AddColumn("workload").AddColumn("mode");
        bool wal = results.Any(r => r.Case.Rw == ReadWriteMode.Wal);
        string[] numerics = ["IOPS", "MiB/s", "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/op", "B alloc/op", "vs RA", .. wal ? new[] { "vs FS" } : []];
        foreach (string numeric in numerics)
        {
            table.AddColumn(new TableColumn(numeric).RightAligned());
        }
        foreach (BenchResult r in results)
        {
            var cells = new List<string>();
            if (rounds)
            {
                cells.Add(r.Round.ToString(CultureInfo.InvariantCulture));
            }
            cells.AddRange(
            [
                BenchNames.Name(r.Case.Api), r.Engine, Workload(r.Case), Mode(r.Case),
                r.Iops.ToString("N0", CultureInfo.InvariantCulture),
                (r.BytesPerSecond / (1 << 20)).ToString("F1", CultureInfo.InvariantCulture),
                Micro(r.Latency.P50), Micro(r.Latency.P99), Micro(r.Latency.P999),
                r.CpuMicrosecondsPerOp.ToString("F2", CultureInfo.InvariantCulture),
                r.AllocBytesPerOp == 0 ? "0" : r.AllocBytesPerOp.ToString("F2", CultureInfo.InvariantCulture),
                Ratio(r.VsRandomAccess),
            ]);
            if (wal)
            {
                cells.Add(Ratio(r.VsFileStream));
            }
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }
        terminal.OutConsole.Write(table);

        TextWriter o = terminal.Out;
        o.WriteLine($"{settings.RuntimeSeconds:0.###} s per case after {settings.WarmupSeconds:0.###} s warm-up; file {settings.FilePath} " +
            $"({Sizes.Format(settings.FileSize)}); latency from submit to completion; CPU = the whole process.");
        o.WriteLine("B alloc/op: context and sync count their own I/O threads; file and randomaccess the whole process. " +
            "vs RA = IOPS / RandomAccess IOPS of the same workload.");
        if (wal)
        {
            o.WriteLine("wal: IOPS = commits/s (one write, then its fdatasync — fsync for filestream's Flush(true)); latency from the write's " +
                "start to the flush's end. vs FS = commits/s / filestream commits/s." +
                (settings.WalFlushWithWrite ? " AioFile appenders begin each flush right after its write (--wal-flush with-write)." : ""));
        }
        foreach (BenchResult r in results.Where(r => r.Errors > 0))
        {
            o.WriteLine($"errors: {Describe(r.Case)} had {r.Errors:N0} failed or short operations; first: {r.FirstError}");
        }
    }

    public static void WriteJson(TextWriter output, IReadOnlyList<BenchResult> results, BenchSettings settings) =>
        output.WriteLine(JsonSerializer.Serialize(BenchDocument.From(results, settings), CliJsonContext.Default.BenchDocument));

    private static string Ratio(double? ratio) =>
        ratio is double value ? value.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-";

    private static string Micro(double microseconds) =>
        microseconds.ToString(microseconds < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
}
