using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;
using Spectre.Console;

namespace FileAio.Cli.Commands;

/// <summary>
/// <c>fileaio info [PATH]</c>: which engines run here and why the others do not, the kernel's io_uring features and
/// opcodes, the limits that matter, and for PATH its file system and direct-I/O alignment.
/// </summary>
internal static class InfoCommand
{
    public static Command Create(Terminal terminal)
    {
        var path = new Argument<string?>("PATH")
        {
            Description = "A file or directory: show its file system and what direct I/O needs there.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("info", "Show which engines work here (and why not), io_uring features, limits, and a path's file system and direct-I/O alignment.")
        {
            path,
        };
        command.SetAction(parse => Run(terminal, parse.GetValue(path)));
        return command;
    }

    private static int Run(Terminal terminal, string? path)
    {
        TextWriter o = terminal.Out;
        o.WriteLine($"FileAio {typeof(AioContext).Assembly.GetName().Version?.ToString(3)}, .NET {Environment.Version}, " +
            $"{RuntimeInformation.OSDescription.Trim()} ({RuntimeInformation.ProcessArchitecture}), {Environment.ProcessorCount} CPUs");
        o.WriteLine();
        WriteEngines(terminal);
        WriteIoUring(o);
        WriteLimits(o);
        if (path is not null)
        {
            WritePath(o, path);
        }
        return ExitCodes.Success;
    }

    private static void WriteEngines(Terminal terminal)
    {
        AioLimits auto = AioContext.GetLimits(AioEngineKind.Auto);
        terminal.Out.WriteLine($"Engines (auto picks {EngineNames.Name(auto.Engine)}):");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("engine").AddColumn("runs here").AddColumn(new TableColumn("max in flight").RightAligned()).AddColumn("why not");
        foreach (AioEngineKind kind in new[] { AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio, AioEngineKind.ThreadPool })
        {
            AioLimits limits = AioContext.GetLimits(kind);
            table.AddRow(
                EngineNames.Name(kind),
                limits.IsSupported ? "yes" : "no",
                limits.IsSupported ? limits.MaxOutstanding.ToString("N0", CultureInfo.InvariantCulture) : "-",
                Markup.Escape(limits.UnsupportedReason ?? ""));
        }
        terminal.OutConsole.Write(table);
    }

    private static void WriteIoUring(TextWriter o)
    {
        o.WriteLine("io_uring, as the kernel reports it (probed by fileaio with one small ring):");
        IoUringFeatures.Report report = IoUringFeatures.Probe();
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

    private static void WriteLimits(TextWriter o)
    {
        o.WriteLine("Limits:");
        foreach ((string label, string name) in new[] { ("RLIMIT_MEMLOCK", "Max locked memory"), ("RLIMIT_NOFILE", "Max open files") })
        {
            if (SystemLimits.ProcessLimit(name) is (string soft, string hard))
            {
                o.WriteLine($"  {label,-26} {FormatLimit(soft, label == "RLIMIT_MEMLOCK")} soft, {FormatLimit(hard, label == "RLIMIT_MEMLOCK")} hard");
            }
        }
        if (SystemLimits.IoUringDisabled is string disabled)
        {
            string meaning = disabled switch
            {
                "0" => "io_uring allowed for every process",
                "1" => $"io_uring only for root and group {SystemLimits.IoUringGroup ?? "?"}",
                "2" => "io_uring disabled for everyone",
                _ => "?",
            };
            o.WriteLine($"  {"kernel.io_uring_disabled",-26} {disabled} ({meaning})");
        }
        if (SystemLimits.AioMaxNr is string maxNr)
        {
            o.WriteLine($"  {"fs.aio-max-nr",-26} {maxNr} (Linux AIO events system-wide; {SystemLimits.AioNr ?? "?"} in use)");
        }
        o.WriteLine($"  {"thread-pool workers",-26} up to {Math.Clamp(2 * Environment.ProcessorCount, 4, 16)} per context (2 x CPUs, 4..16)");
        o.WriteLine();
    }

    private static void WritePath(TextWriter o, string path)
    {
        string full = Path.GetFullPath(path);
        bool isDirectory = Directory.Exists(full);
        if (!isDirectory && !File.Exists(full))
        {
            throw IoFailureException.FromErrno("stat", full, ErrnoText.ENOENT);
        }
        string canonical = FileSystemCalls.RealPath(full);
        o.WriteLine($"Path {full}:");
        if (canonical != full)
        {
            o.WriteLine($"  {"canonical",-12} {canonical}");
        }
        o.WriteLine($"  {"kind",-12} {(isDirectory ? "directory" : $"file, {new FileInfo(full).Length.ToString("N0", CultureInfo.InvariantCulture)} bytes")}");
        if (MountTable.Find(canonical) is MountTable.Mount mount)
        {
            o.WriteLine($"  {"file system",-12} {mount.FileSystem} on {mount.Source}, mounted at {mount.MountPoint}");
            o.WriteLine($"  {"options",-12} {mount.Options}");
            if (mount.IsFuse)
            {
                o.WriteLine($"  {"engine",-12} threadpool under auto: io_uring misreports FUSE reads that fail partway (docs/engines.md)");
            }
        }
        o.WriteLine($"  {"direct I/O",-12} {DescribeDirectIo(full, isDirectory)}");
        o.WriteLine();
    }

    /// <summary>Opens the file (or a probe file created in the directory) without and then with O_DIRECT.</summary>
    private static string DescribeDirectIo(string path, bool isDirectory)
    {
        string target = isDirectory ? Path.Combine(path, $".fileaio-info-{Environment.ProcessId}-{Guid.NewGuid():N}") : path;
        try
        {
            AioAlignment alignment;
            using (SafeFileHandle plain = isDirectory
                ? AioFile.OpenHandle(target, FileMode.CreateNew, FileAccess.ReadWrite)
                : AioFile.OpenHandle(target, FileMode.Open, FileAccess.Read))
            {
                alignment = AioFile.GetAlignment(plain);
            }
            string rule = $"memory alignment {alignment.MemoryAlignment} B, offset and length alignment {alignment.OffsetAlignment} B " +
                $"(from {DescribeSource(alignment.Source)})";
            if (!alignment.SupportsDirectIo)
            {
                return $"not supported here (the kernel says so for this file); {rule}";
            }
            try
            {
                using SafeFileHandle direct = AioFile.OpenHandle(target, FileMode.Open, FileAccess.Read, direct: true);
                return $"works (O_DIRECT): {rule}";
            }
            catch (IOException e)
            {
                return $"refused: {DescribeError(e)}; {rule}";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return isDirectory
                ? $"unknown: cannot create a probe file here: {DescribeError(e)}"
                : $"unknown: cannot open the file: {DescribeError(e)}";
        }
        finally
        {
            if (isDirectory)
            {
                try
                {
                    File.Delete(target);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    private static string DescribeError(Exception e)
    {
        int errno = ErrnoText.FromException(e);
        return errno != 0 ? ErrnoText.Describe(errno) : e.Message;
    }

    private static string DescribeSource(AioAlignmentSource source) => source switch
    {
        AioAlignmentSource.Statx => "statx STATX_DIOALIGN",
        AioAlignmentSource.LogicalBlockSize => "the device's logical block size",
        _ => "no answer from the kernel: 4096 assumed",
    };

    private static string FormatLimit(string value, bool bytes) =>
        bytes && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? Sizes.Human(n) : value;

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
