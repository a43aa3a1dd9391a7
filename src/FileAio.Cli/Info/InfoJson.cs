using System.Globalization;
using System.Text;
using System.Text.Json;
using FileAio.Cli.Platform;

namespace FileAio.Cli.Info;

/// <summary>
/// <c>fileaio info --json</c>: the same facts as the text, as one JSON document for scripts (docs/cli.md lists the
/// fields). Numbers are numbers; a limit the kernel calls "unlimited" is the string "unlimited"; what is not known here
/// is null.
/// </summary>
internal static class InfoJson
{
    public static void Write(TextWriter output, InfoFacts facts)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("fileaio", facts.FileAioVersion);
            json.WriteString("dotnet", facts.DotnetVersion);
            json.WriteString("os", facts.Os);
            json.WriteString("arch", facts.Architecture);
            json.WriteNumber("cpus", facts.Cpus);
            json.WriteString("auto_engine", EngineNames.Name(facts.AutoEngine));
            WriteEngines(json, facts.Engines);
            WriteIoUring(json, facts.IoUring);
            WriteLimits(json, facts.Limits);
            if (facts.Path is { } path)
            {
                WritePath(json, path);
            }
            else
            {
                json.WriteNull("path");
            }
            json.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteEngines(Utf8JsonWriter json, IReadOnlyList<(AioEngineKind Kind, AioLimits Limits)> engines)
    {
        json.WriteStartArray("engines");
        foreach ((AioEngineKind kind, AioLimits limits) in engines)
        {
            json.WriteStartObject();
            json.WriteString("name", EngineNames.Name(kind));
            json.WriteBoolean("supported", limits.IsSupported);
            if (limits.IsSupported)
            {
                json.WriteNumber("max_in_flight", limits.MaxOutstanding);
                json.WriteNull("reason");
            }
            else
            {
                json.WriteNull("max_in_flight");
                json.WriteString("reason", limits.UnsupportedReason);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteIoUring(Utf8JsonWriter json, IoUringFeatures.Report report)
    {
        json.WriteStartObject("io_uring");
        json.WriteBoolean("setup_works", report.SetupErrno == 0);
        WriteErrno(json, "setup_errno", report.SetupErrno);
        WriteStrings(json, "features", report.SetupErrno == 0 ? report.Features : null);
        WriteStrings(json, "opcodes", report.Opcodes);
        WriteErrno(json, "probe_errno", report.SetupErrno == 0 ? report.ProbeErrno : 0);
        json.WriteEndObject();
    }

    private static void WriteLimits(Utf8JsonWriter json, InfoFacts.LimitFacts limits)
    {
        json.WriteStartObject("limits");
        WriteSoftHard(json, "rlimit_memlock_bytes", limits.MemLock);
        WriteSoftHard(json, "rlimit_nofile", limits.NoFile);
        WriteNumberOrText(json, "io_uring_disabled", limits.IoUringDisabled);
        WriteNumberOrText(json, "io_uring_group", limits.IoUringGroup);
        WriteNumberOrText(json, "aio_max_nr", limits.AioMaxNr);
        WriteNumberOrText(json, "aio_nr", limits.AioNr);
        json.WriteNumber("threadpool_workers_per_context", limits.ThreadPoolWorkersPerContext);
        json.WriteEndObject();
    }

    private static void WritePath(Utf8JsonWriter json, InfoFacts.PathFacts path)
    {
        json.WriteStartObject("path");
        json.WriteString("path", path.FullPath);
        json.WriteString("canonical", path.CanonicalPath);
        json.WriteString("kind", path.IsDirectory ? "directory" : "file");
        if (path.Size is long size)
        {
            json.WriteNumber("size", size);
        }
        else
        {
            json.WriteNull("size");
        }
        if (path.Mount is { } mount)
        {
            json.WriteStartObject("file_system");
            json.WriteString("type", mount.FileSystem);
            json.WriteString("source", mount.Source);
            json.WriteString("mount_point", mount.MountPoint);
            json.WriteString("options", mount.Options);
            json.WriteBoolean("fuse", mount.IsFuse);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("file_system");
        }
        json.WriteString("auto_engine", EngineNames.Name(path.AutoEngine));
        json.WriteStartObject("direct_io");
        json.WriteString("status", path.DirectIo.Status);
        if (path.DirectIo.Problem is string problem)
        {
            json.WriteString("problem", problem);
        }
        else
        {
            json.WriteNull("problem");
        }
        if (path.DirectIo.Alignment is AioAlignment alignment)
        {
            json.WriteNumber("memory_alignment", alignment.MemoryAlignment);
            json.WriteNumber("offset_alignment", alignment.OffsetAlignment);
            json.WriteString("alignment_source", InfoText.DescribeSource(alignment.Source));
        }
        else
        {
            json.WriteNull("memory_alignment");
            json.WriteNull("offset_alignment");
            json.WriteNull("alignment_source");
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteErrno(Utf8JsonWriter json, string name, int errno)
    {
        if (errno == 0)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteStartObject(name);
            json.WriteNumber("errno", errno);
            json.WriteString("name", ErrnoText.Name(errno));
            json.WriteString("message", ErrnoText.Describe(errno));
            json.WriteEndObject();
        }
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string>? items)
    {
        if (items is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartArray(name);
        foreach (string item in items)
        {
            json.WriteStringValue(item);
        }
        json.WriteEndArray();
    }

    private static void WriteSoftHard(Utf8JsonWriter json, string name, (string Soft, string Hard)? limit)
    {
        if (limit is not (string soft, string hard))
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        WriteNumberOrText(json, "soft", soft);
        WriteNumberOrText(json, "hard", hard);
        json.WriteEndObject();
    }

    private static void WriteNumberOrText(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
