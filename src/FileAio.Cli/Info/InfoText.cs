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
        foreach ((AioEngineKind kind, AioLimits limits) in facts.Engines)
        {
            table.AddRow(
                EngineNames.Name(kind),
                limits.IsSupported ? "yes" : "no",
                limits.IsSupported ? limits.MaxOutstanding.ToString("N0", CultureInfo.InvariantCulture) : "-",
                Markup.Escape(limits.UnsupportedReason ?? ""));
        }
        terminal.OutConsole.Write(table);
    }

    private static void WriteIoUring(TextWriter o, IoUringFeatures.Report report)
    {
        o.WriteLine("io_uring, as the kernel reports it (probed by fileaio with one small ring):");
        if (report.SetupErrno != 0)
        {
            o.WriteLine($"  io_uring_setup:  fails with {ErrnoText.Describe(report.SetupErrno)}");
            o.WriteLine("                   (EPERM: a seccomp filter such as a container's, or kernel.io_uring_disabled;");
            o.WriteLine("                    ENOSYS: kernel without io_uring; ENOMEM: RLIMIT_MEMLOCK too low before Linux 5.12)");
        }
        else
        {
            o.WriteLine("  io_uring_setup:  works");
            WriteWrapped(o, "  features:        ", report.Features, ", ");
            if (report.Opcodes is null)
            {
                o.WriteLine($"  opcodes:         IORING_REGISTER_PROBE fails with {ErrnoText.Describe(report.ProbeErrno)} (before Linux 5.6)");
            }
            else
            {
                WriteWrapped(o, $"  opcodes ({report.Opcodes.Count}):  ".PadRight(19), report.Opcodes, " ");
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

    private static void WritePath(TextWriter o, InfoFacts.PathFacts path, AioEngineKind autoEngine)
    {
        o.WriteLine($"Path {path.FullPath}:");
        if (path.CanonicalPath != path.FullPath)
        {
            o.WriteLine($"  {"canonical",-12} {path.CanonicalPath}");
        }
        o.WriteLine($"  {"kind",-12} {(path.IsDirectory ? "directory" : $"file, {path.Size!.Value.ToString("N0", CultureInfo.InvariantCulture)} bytes")}");
        if (path.Mount is { } mount)
        {
            o.WriteLine($"  {"file system",-12} {mount.FileSystem} on {mount.Source}, mounted at {mount.MountPoint}");
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
        if (directIo.Alignment is not AioAlignment alignment)
        {
            return $"unknown: {directIo.Problem}";
        }
        string rule = $"memory alignment {alignment.MemoryAlignment} B, offset and length alignment {alignment.OffsetAlignment} B " +
            $"(from {DescribeSource(alignment.Source)})";
        return directIo.Status switch
        {
            "works" => $"works (O_DIRECT): {rule}",
            "unsupported" => $"not supported here ({directIo.Problem}); {rule}",
            _ => $"refused: {directIo.Problem}; {rule}",
        };
    }

    public static string DescribeSource(AioAlignmentSource source) => source switch
    {
        AioAlignmentSource.Statx => "statx STATX_DIOALIGN",
        AioAlignmentSource.LogicalBlockSize => "the device's logical block size",
        _ => "no answer from the kernel: 4096 assumed",
    };

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
