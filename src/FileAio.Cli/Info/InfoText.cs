using System.Globalization;
using Spectre.Console;

namespace FileAio.Cli.Info;

/// <summary><c>fileaio info</c> for people: an engine table and labelled lines.</summary>
internal static class InfoText
{
    public static void Write(Terminal terminal, InfoFacts facts)
    {
        TextWriter o = terminal.Out;
        o.WriteLine($"FileAio {facts.FileAioVersion}, .NET {facts.DotnetVersion}, {facts.Os} ({facts.Architecture}), {facts.Cpus} CPUs");
        o.WriteLine();
        WriteEngines(terminal, facts);
        WriteIoUring(o, facts.IoUring);
        WriteLimits(o, facts.Limits);
        WriteLoops(o, facts.Loops);
        if (facts.Path is not null)
        {
            WritePath(o, facts.Path, facts.AutoEngine);
        }
    }

    private static void WriteEngines(Terminal terminal, InfoFacts facts)
    {
        terminal.Out.WriteLine($"Engines (auto picks {EngineNames.Name(facts.AutoEngine)}):");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("engine").AddColumn("runs here").AddColumn(new TableColumn("max in flight").RightAligned()).AddColumn("why not");
        foreach (InfoFacts.EngineFacts engine in facts.Engines)
        {
            table.AddRow(
                EngineNames.Name(engine.Name),
                engine.Supported ? "yes" : "no",
                engine.MaxInFlight is int max ? max.ToString("N0", CultureInfo.InvariantCulture) : "-",
                Markup.Escape(engine.Reason ?? ""));
        }
        terminal.OutConsole.Write(table);
    }

    private static void WriteIoUring(TextWriter o, InfoFacts.IoUringFacts ioUring)
    {
        o.WriteLine("io_uring, as the kernel reports it (probed by fileaio with one small ring):");
        if (!ioUring.SetupWorks)
        {
            o.WriteLine($"  io_uring_setup:  fails with {ioUring.SetupErrno?.Message}");
            o.WriteLine("                   (EPERM: a seccomp filter such as a container's, or kernel.io_uring_disabled;");
            o.WriteLine("                    ENOSYS: kernel without io_uring; ENOMEM: RLIMIT_MEMLOCK too low before Linux 5.12)");
        }
        else
        {
            o.WriteLine("  io_uring_setup:  works");
            WriteWrapped(o, "  features:        ", ioUring.Features ?? [], ", ");
            if (ioUring.Opcodes is null)
            {
                o.WriteLine($"  opcodes:         IORING_REGISTER_PROBE fails with {ioUring.ProbeErrno?.Message} (before Linux 5.6)");
            }
            else
            {
                WriteWrapped(o, $"  opcodes ({ioUring.Opcodes.Count}):  ".PadRight(19), ioUring.Opcodes, " ");
            }
        }
        o.WriteLine();
    }

    private static void WriteLimits(TextWriter o, InfoFacts.LimitFacts limits)
    {
        o.WriteLine("Limits:");
        if (limits.MemLock is (string memSoft, string memHard))
        {
            o.WriteLine($"  {"RLIMIT_MEMLOCK",-26} {FormatBytes(memSoft)} soft, {FormatBytes(memHard)} hard");
        }
        if (limits.NoFile is (string fileSoft, string fileHard))
        {
            o.WriteLine($"  {"RLIMIT_NOFILE",-26} {fileSoft} soft, {fileHard} hard");
        }
        if (limits.IoUringDisabled is string disabled)
        {
            string meaning = disabled switch
            {
                "0" => "io_uring allowed for every process",
                "1" => $"io_uring only for root and group {limits.IoUringGroup ?? "?"}",
                "2" => "io_uring disabled for everyone",
                _ => "?",
            };
            o.WriteLine($"  {"kernel.io_uring_disabled",-26} {disabled} ({meaning})");
        }
        if (limits.AioMaxNr is string maxNr)
        {
            o.WriteLine($"  {"fs.aio-max-nr",-26} {maxNr} (Linux AIO events system-wide; {limits.AioNr ?? "?"} in use)");
        }
        o.WriteLine($"  {"thread-pool workers",-26} up to {limits.ThreadPoolWorkersPerContext} per context (2 x CPUs, 4..16)");
        o.WriteLine();
    }

    private static void WriteLoops(TextWriter o, InfoFacts.LoopFacts loops)
    {
        o.WriteLine("Loop mode (AioLoop: your code on the engine threads; blocking one stalls only that loop):");
        if (loops.Probe is not { } probe)
        {
            o.WriteLine($"  probe failed: {loops.ProbeProblem}");
            o.WriteLine();
            return;
        }
        o.WriteLine($"  {"loops per host",-16} {loops.PerHost} ({EngineNames.Name(probe.Engine)}; AioEngineHost.Create(threads: 0): one per core, at most 4)");
        o.WriteLine($"  {"probe",-16} {probe.DurationMs:F0} ms: work posted to each loop from another thread; 4 KiB reads on loop 0");
        foreach (InfoFacts.LoopSample loop in probe.Loops)
        {
            string reads = loop.Reads > 0
                ? $"; {loop.Reads.ToString("N0", CultureInfo.InvariantCulture)} reads, p50 {loop.ReadP50Us:F1} µs"
                : "; idle between posts";
            string lag = loop.LagUs is double us ? $"{us:F1} µs" : "not reported";
            o.WriteLine($"  {$"loop {loop.Index}",-16} post to run p50 {loop.PostToRunP50Us:F1} µs, max {loop.PostToRunMaxUs:F1} µs ({loop.Posts} posts){reads}; lag {lag}");
        }
        o.WriteLine($"  {"",-16} (lag: fileaio.loop.lag, the longest time the loop went without looking at its queues and engine)");
        o.WriteLine();
    }

    private static void WritePath(TextWriter o, InfoFacts.PathFacts path, AioEngineKind autoEngine)
    {
        o.WriteLine($"Path {path.FullPath}:");
        if (path.CanonicalPath != path.FullPath)
        {
            o.WriteLine($"  {"canonical",-12} {path.CanonicalPath}");
        }
        o.WriteLine($"  {"kind",-12} {(path.Kind == InfoFacts.PathKind.Directory ? "directory" : $"file, {path.Size!.Value.ToString("N0", CultureInfo.InvariantCulture)} bytes")}");
        if (path.FileSystem is { } mount)
        {
            o.WriteLine($"  {"file system",-12} {mount.Type} on {mount.Source}, mounted at {mount.MountPoint}");
            o.WriteLine($"  {"options",-12} {mount.Options}");
        }
        if (path.AutoEngine != autoEngine)
        {
            o.WriteLine($"  {"engine",-12} {EngineNames.Name(path.AutoEngine)} under auto: io_uring misreports FUSE reads that fail partway (docs/engines.md)");
        }
        o.WriteLine($"  {"direct I/O",-12} {Describe(path.DirectIo)}");
        o.WriteLine();
    }

    private static string Describe(InfoFacts.DirectIoFacts directIo)
    {
        if (directIo.Status == InfoFacts.DirectIoStatus.Unknown)
        {
            return $"unknown: {directIo.Problem}";
        }
        string rule = $"memory alignment {directIo.MemoryAlignment} B, offset and length alignment {directIo.OffsetAlignment} B " +
            $"(from {directIo.AlignmentSource})";
        return directIo.Status switch
        {
            InfoFacts.DirectIoStatus.Works => $"works (O_DIRECT): {rule}",
            InfoFacts.DirectIoStatus.Unsupported => $"not supported here ({directIo.Problem}); {rule}",
            _ => $"refused: {directIo.Problem}; {rule}",
        };
    }

    private static string FormatBytes(string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? Sizes.Human(n) : value;

    /// <summary>Writes <paramref name="items"/> after <paramref name="label"/>, wrapped at 110 columns under the label.</summary>
    private static void WriteWrapped(TextWriter o, string label, IReadOnlyList<string> items, string separator)
    {
        const int width = 110;
        string indent = new(' ', label.Length);
        var line = new System.Text.StringBuilder(label);
        for (int i = 0; i < items.Count; i++)
        {
            string item = items[i] + (i + 1 < items.Count ? separator.TrimEnd() : "");
            if (line.Length + item.Length + 1 > width && line.Length > label.Length)
            {
                o.WriteLine(line.ToString().TrimEnd());
                line.Clear().Append(indent);
            }
            line.Append(item).Append(' ');
        }
        o.WriteLine(line.ToString().TrimEnd());
    }
}
