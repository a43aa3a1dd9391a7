using System.Globalization;
using FileAio.Cli.Bench;
using ScottPlot;

namespace FileAio.Cli.Plot;

/// <summary>
/// <c>bench --plot FILE.png</c>: two panels side by side, one horizontal bar per case — IOPS on the left, latency
/// percentiles (p50, p99, p99.9) on the right. Drawn with ScottPlot on SkiaSharp, headless; the font ships with the
/// program (Plot/Fonts) because SkiaSharp's Linux assets bring none and a machine may have none installed.
/// </summary>
internal static class BenchPlot
{
    private const string FontName = "DejaVu Sans Mono";
    private static readonly object s_fontLock = new();
    private static bool s_fontAdded;

    /// <summary>What is wrong with <c>--plot</c> <paramref name="path"/> (checked while parsing, before any case
    /// runs), or null.</summary>
    public static string? PathProblem(string path)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            return $"'{path}' must be a .png file";
        }
        string full = Path.GetFullPath(path);
        return Directory.Exists(Path.GetDirectoryName(full)) ? null : $"the directory of {full} does not exist";
    }

    public static void Save(string path, IReadOnlyList<BenchResult> results, BenchSettings settings)
    {
        UseBundledFont();
        string[] labels = [.. results.Select(r => Label(r, settings.Repeat > 1))];
        double[] positions = [.. Enumerable.Range(0, results.Count).Select(i => (double)(results.Count - 1 - i))]; // first case on top

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();

        ScottPlot.Plot iops = multiplot.GetPlot(0);
        var bars = results.Select((r, i) => new Bar
        {
            Position = positions[i],
            Value = r.Iops,
            FillColor = ApiColor(r.Case.Api),
            Label = r.Iops.ToString("N0", CultureInfo.InvariantCulture),
            Size = 0.7,
        }).ToList();
        var iopsBars = iops.Add.Bars(bars);
        iopsBars.Horizontal = true;
        iops.Axes.Left.SetTicks(positions, labels);
        iops.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = x => x == 0 ? "0" : (x / 1000).ToString("N0", CultureInfo.InvariantCulture) + "k", // short labels: no clipping at the edge
        };
        iops.Axes.Margins(left: 0, right: 0.25, bottom: 0.05, top: 0.05);
        iops.Title("IOPS (higher is better)");
        iops.XLabel("operations per second");
        iops.HideGrid();

        ScottPlot.Plot latency = multiplot.GetPlot(1);
        (string Name, Func<LatencySummary, double> Value, Color Color)[] percentiles =
        [
            ("p50", l => l.P50, Colors.SteelBlue),
            ("p99", l => l.P99, Colors.DarkOrange),
            ("p99.9", l => l.P999, Colors.FireBrick),
        ];
        // Latencies span orders of magnitude (page cache: µs; a device: ms), so the axis is logarithmic: bars are drawn
        // in log10 units from one decade below the smallest value, and the ticks are labelled in microseconds.
        double smallest = results.SelectMany(r => percentiles.Select(p => p.Value(r.Latency))).Where(v => v > 0).DefaultIfEmpty(1).Min();
        double floor = Math.Floor(Math.Log10(smallest));
        var latencyBars = new List<Bar>();
        for (int i = 0; i < results.Count; i++)
        {
            for (int p = 0; p < percentiles.Length; p++)
            {
                double value = percentiles[p].Value(results[i].Latency);
                latencyBars.Add(new Bar
                {
                    Position = positions[i] + 0.25 - (p * 0.25),
                    ValueBase = floor,
                    Value = Math.Log10(Math.Max(value, Math.Pow(10, floor))),
                    FillColor = percentiles[p].Color,
                    Size = 0.23,
                    Label = value.ToString(value < 10 ? "0.0#" : "N0", CultureInfo.InvariantCulture),
                });
            }
        }
        var latencyPlot = latency.Add.Bars(latencyBars);
        latencyPlot.Horizontal = true;
        latency.Axes.Left.SetTicks(positions, labels);
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = x => Math.Pow(10, x).ToString("N0", CultureInfo.InvariantCulture),
        };
        latency.Axes.Bottom.TickGenerator = ticks;
        latency.Axes.Margins(left: 0, right: 0.12, bottom: 0.05, top: 0.05);
        latency.Title("latency percentiles (lower is better)");
        latency.XLabel("microseconds, submit to completion (log scale)");
        latency.HideGrid();
        latency.Legend.ManualItems.AddRange(percentiles.Select(p => new LegendItem { LabelText = p.Name, FillColor = p.Color }));
        latency.ShowLegend(Edge.Right);

        int height = 220 + (70 * results.Count);
        try
        {
            multiplot.SavePng(path, 1600, height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException("write plot", path, e);
        }
    }

    private static string Label(BenchResult r, bool rounds)
    {
        string engine = r.Engine == "none" ? "" : $" {r.Engine}";
        string run = rounds ? $" #{r.Round}" : "";
        return $"{BenchNames.Name(r.Case.Api)}{engine}{run}\n{BenchReport.Workload(r.Case)} {BenchReport.Mode(r.Case)}";
    }

    private static Color ApiColor(BenchApi api) => api switch
    {
        BenchApi.Context => Colors.SeaGreen,
        BenchApi.File => Colors.MediumPurple,
        BenchApi.Loop => Colors.Teal,
        BenchApi.FileInline => Colors.Orchid,
        BenchApi.RandomAccess => Colors.Gray,
        _ => Colors.SlateGray,
    };

    private static void UseBundledFont()
    {
        lock (s_fontLock)
        {
            if (s_fontAdded)
            {
                return;
            }
            string font = Path.Combine(AppContext.BaseDirectory, "Plot", "Fonts", "DejaVuSansMono.ttf");
            if (File.Exists(font))
            {
                Fonts.AddFontFile(FontName, font);
                Fonts.Default = FontName;
            }
            s_fontAdded = true;
        }
    }
}
