using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FileAio.Cli.Platform;
using Spectre.Console;

namespace FileAio.Cli.Bench;

/// <summary>How bench results are shown: one table (with notes under it), or one JSON document.</summary>
internal static class BenchReport
{
    /// <summary>"context", "randread 4k qd32", "cached": the words a case is described by in tables and progress.</summary>
    public static string Workload(BenchCase c) =>
        $"{BenchNames.Name(c.Rw)} {Sizes.Short(c.BlockSize)} qd{c.IoDepth}" + (c.Jobs > 1 ? $" x{c.Jobs} jobs" : "");

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
        foreach (string numeric in new[] { "IOPS", "MiB/s", "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/op", "B alloc/op", "vs RA" })
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
                r.VsRandomAccess is double ratio ? ratio.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-",
            ]);
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }
        terminal.OutConsole.Write(table);

        TextWriter o = terminal.Out;
        o.WriteLine($"{settings.RuntimeSeconds:0.###} s per case after {settings.WarmupSeconds:0.###} s warm-up; file {settings.FilePath} " +
            $"({Sizes.Format(settings.FileSize)}); latency from submit to completion; CPU = the whole process.");
        o.WriteLine("B alloc/op: context and sync count their own I/O threads; file and randomaccess the whole process. " +
            "vs RA = IOPS / RandomAccess IOPS of the same workload.");
        foreach (BenchResult r in results.Where(r => r.Errors > 0))
        {
            o.WriteLine($"errors: {Describe(r.Case)} had {r.Errors:N0} failed or short operations; first: {r.FirstError}");
        }
    }

    public static void WriteJson(TextWriter output, IReadOnlyList<BenchResult> results, BenchSettings settings)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("cases");
            foreach (BenchResult r in results)
            {
                json.WriteStartObject();
                json.WriteString("api", BenchNames.Name(r.Case.Api));
                json.WriteString("engine", r.Engine);
                json.WriteString("rw", BenchNames.Name(r.Case.Rw));
                json.WriteNumber("bs", r.Case.BlockSize);
                json.WriteNumber("iodepth", r.Case.IoDepth);
                json.WriteBoolean("direct", r.Case.Direct);
                json.WriteNumber("jobs", r.Case.Jobs);
                json.WriteNumber("runtime_s", Math.Round(r.RuntimeSeconds, 3));
                json.WriteNumber("ops", r.Ops);
                json.WriteNumber("iops", Math.Round(r.Iops, 1));
                json.WriteNumber("bytes_per_sec", Math.Round(r.BytesPerSecond));
                json.WriteNumber("cpu_us_per_op", Math.Round(r.CpuMicrosecondsPerOp, 3));
                json.WriteNumber("alloc_bytes_per_op", Math.Round(r.AllocBytesPerOp, 3));
                json.WriteStartObject("lat_us");
                json.WriteNumber("p50", Math.Round(r.Latency.P50, 2));
                json.WriteNumber("p99", Math.Round(r.Latency.P99, 2));
                json.WriteNumber("p999", Math.Round(r.Latency.P999, 2));
                json.WriteNumber("max", Math.Round(r.Latency.Max, 2));
                json.WriteEndObject();
                json.WriteNumber("errors", r.Errors);
                // Beyond the documented fields: which run of --repeat, where allocations were counted, the ratio.
                json.WriteNumber("run", r.Round);
                json.WriteString("alloc_scope", r.AllocScope);
                if (r.VsRandomAccess is double ratio)
                {
                    json.WriteNumber("vs_randomaccess", Math.Round(ratio, 3));
                }
                else
                {
                    json.WriteNull("vs_randomaccess");
                }
                if (r.FirstError is not null)
                {
                    json.WriteString("first_error", r.FirstError);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("file", settings.FilePath);
            json.WriteNumber("file_size", settings.FileSize);
            json.WriteNumber("warmup_s", settings.WarmupSeconds);
            json.WriteStartObject("host");
            json.WriteString("os", RuntimeInformation.OSDescription.Trim());
            json.WriteString("kernel", SystemLimits.KernelRelease);
            json.WriteNumber("cpus", Environment.ProcessorCount);
            json.WriteString("dotnet", Environment.Version.ToString());
            json.WriteString("fileaio", typeof(AioContext).Assembly.GetName().Version?.ToString(3));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static string Micro(double microseconds) =>
        microseconds.ToString(microseconds < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
}
