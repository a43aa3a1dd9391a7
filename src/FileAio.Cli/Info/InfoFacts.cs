using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Info;

/// <summary>
/// What <c>fileaio info</c> reports, gathered once and then written as text (<see cref="InfoText"/>) or serialized as
/// it is (<see cref="CliJsonContext"/>), so that both say the same thing. The records have the JSON document's shape:
/// each property is a field (snake_case, or the name given), numbers are numbers, and what is not known here is null
/// (docs/cli.md lists the fields).
/// </summary>
internal sealed record InfoFacts(
    [property: JsonPropertyName("fileaio")] string FileAioVersion,
    [property: JsonPropertyName("dotnet")] string DotnetVersion,
    string Os,
    [property: JsonPropertyName("arch")] string Architecture,
    int Cpus,
    AioEngineKind AutoEngine,
    IReadOnlyList<InfoFacts.EngineFacts> Engines,
    InfoFacts.IoUringFacts IoUring,
    InfoFacts.LimitFacts Limits,
    InfoFacts.LoopFacts Loops,
    InfoFacts.PathFacts? Path)
{
    /// <summary>One engine: whether it runs here, how many operations a context may have in flight (null when it does
    /// not run), and why not (null when it does).</summary>
    internal sealed record EngineFacts(AioEngineKind Name, bool Supported, int? MaxInFlight, string? Reason);

    /// <summary>io_uring as the kernel reports it: the errno of <c>io_uring_setup</c> (null when it works), the
    /// feature bits (null when setup fails), the opcodes (null when the probe fails) and the probe's errno.</summary>
    internal sealed record IoUringFacts(bool SetupWorks, ErrnoFacts? SetupErrno, IReadOnlyList<string>? Features, IReadOnlyList<string>? Opcodes, ErrnoFacts? ProbeErrno);

    /// <summary>An errno as people and scripts read it: 28, "ENOSPC", "No space left on device (ENOSPC, errno 28)".</summary>
    internal sealed record ErrnoFacts(int Errno, string Name, string Message)
    {
        /// <summary>Null for 0 (no error).</summary>
        public static ErrnoFacts? From(int errno) =>
            errno == 0 ? null : new ErrnoFacts(errno, ErrnoText.Name(errno), ErrnoText.Describe(errno));
    }

    /// <summary>Process and system limits, as the kernel words them: a number is written as a number, and "unlimited"
    /// stays a word (<see cref="KernelNumberJsonConverter"/>); null where absent.</summary>
    internal sealed record LimitFacts(
        [property: JsonPropertyName("rlimit_memlock_bytes")] SoftHard? MemLock,
        [property: JsonPropertyName("rlimit_nofile")] SoftHard? NoFile,
        [property: JsonConverter(typeof(KernelNumberJsonConverter))] string? IoUringDisabled,
        [property: JsonConverter(typeof(KernelNumberJsonConverter))] string? IoUringGroup,
        [property: JsonConverter(typeof(KernelNumberJsonConverter))] string? AioMaxNr,
        [property: JsonConverter(typeof(KernelNumberJsonConverter))] string? AioNr,
        [property: JsonPropertyName("threadpool_workers_per_context")] int ThreadPoolWorkersPerContext);

    /// <summary>A resource limit's soft and hard values, as the kernel words them.</summary>
    internal sealed record SoftHard(
        [property: JsonConverter(typeof(KernelNumberJsonConverter))] string Soft,
        [property: JsonConverter(typeof(KernelNumberJsonConverter))] string Hard);

    /// <summary>The loop mode (<see cref="AioLoop"/>): how many loops a host starts here (<c>threads: 0</c>: one per
    /// core, at most 4) and what the probe saw (<see cref="LoopProbe"/>); null with the problem when it could not run.</summary>
    internal sealed record LoopFacts(int? PerHost, LoopProbeFacts? Probe, string? ProbeProblem);

    /// <summary>The probe: the engine its host ran, how long it ran, and each loop.</summary>
    internal sealed record LoopProbeFacts(AioEngineKind Engine, double DurationMs, IReadOnlyList<LoopSample> Loops);

    /// <summary>One loop in the probe: work posted to it from another thread and how long each waited to run
    /// (µs), the reads it ran (loop 0 only) and their median latency, and the longest lag the meter's
    /// <c>fileaio.loop.lag</c> reported for it over the probe (null if the meter did not report the loop).</summary>
    internal sealed record LoopSample(
        int Index, int Posts,
        [property: JsonPropertyName("post_to_run_p50_us")] double PostToRunP50Us,
        [property: JsonPropertyName("post_to_run_max_us")] double PostToRunMaxUs,
        long Reads,
        [property: JsonPropertyName("read_p50_us")] double? ReadP50Us,
        [property: JsonPropertyName("lag_us")] double? LagUs);

    /// <summary>A path: what it is, the mount holding it, the engine <c>auto</c> runs there, and direct I/O.</summary>
    internal sealed record PathFacts(
        [property: JsonPropertyName("path")] string FullPath,
        [property: JsonPropertyName("canonical")] string CanonicalPath,
        PathKind Kind,
        long? Size,
        FileSystemFacts? FileSystem,
        AioEngineKind AutoEngine,
        DirectIoFacts DirectIo);

    [JsonConverter(typeof(JsonStringEnumConverter<PathKind>))]
    internal enum PathKind
    {
        [JsonStringEnumMemberName("file")] File,
        [JsonStringEnumMemberName("directory")] Directory,
    }

    /// <summary>The mount holding a path, from /proc/self/mountinfo.</summary>
    internal sealed record FileSystemFacts(string Type, string Source, string MountPoint, string Options, bool Fuse);

    /// <summary>Whether O_DIRECT opens there, why not, and the alignment it needs with where that came from (the
    /// alignment is null when the file could not be opened at all).</summary>
    internal sealed record DirectIoFacts(DirectIoStatus Status, string? Problem, int? MemoryAlignment, int? OffsetAlignment, string? AlignmentSource)
    {
        public static DirectIoFacts With(DirectIoStatus status, string? problem, AioAlignment alignment) =>
            new(status, problem, alignment.MemoryAlignment, alignment.OffsetAlignment, DescribeSource(alignment.Source));

        private static string DescribeSource(AioAlignmentSource source) => source switch
        {
            AioAlignmentSource.Statx => "statx STATX_DIOALIGN",
            AioAlignmentSource.LogicalBlockSize => "the device's logical block size",
            _ => "no answer from the kernel: 4096 assumed",
        };
    }

    [JsonConverter(typeof(JsonStringEnumConverter<DirectIoStatus>))]
    internal enum DirectIoStatus
    {
        /// <summary>O_DIRECT opens.</summary>
        [JsonStringEnumMemberName("works")] Works,

        /// <summary>The open with O_DIRECT fails (the problem says how).</summary>
        [JsonStringEnumMemberName("refused")] Refused,

        /// <summary>The kernel says the file cannot do direct I/O (<c>STATX_DIOALIGN</c> 0).</summary>
        [JsonStringEnumMemberName("unsupported")] Unsupported,

        /// <summary>The file could not be opened at all: no alignment.</summary>
        [JsonStringEnumMemberName("unknown")] Unknown,
    }

    /// <summary>Looks everything up. A missing <paramref name="path"/> is an <see cref="IoFailureException"/> (ENOENT).</summary>
    public static InfoFacts Gather(string? path)
    {
        var engines = new[] { AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio, AioEngineKind.ThreadPool }
            .Select(kind => (kind, limits: AioContext.GetLimits(kind)))
            .Select(e => new EngineFacts(e.kind, e.limits.IsSupported, e.limits.IsSupported ? e.limits.MaxOutstanding : null, e.limits.IsSupported ? null : e.limits.UnsupportedReason))
            .ToList();
        var limits = new LimitFacts(
            SoftHardOf(SystemLimits.ProcessLimit("Max locked memory")),
            SoftHardOf(SystemLimits.ProcessLimit("Max open files")),
            SystemLimits.IoUringDisabled,
            SystemLimits.IoUringGroup,
            SystemLimits.AioMaxNr,
            SystemLimits.AioNr,
            Math.Clamp(2 * Environment.ProcessorCount, 4, 16));
        return new InfoFacts(
            typeof(AioContext).Assembly.GetName().Version?.ToString(3) ?? "?",
            Environment.Version.ToString(),
            RuntimeInformation.OSDescription.Trim(),
            RuntimeInformation.ProcessArchitecture.ToString(),
            Environment.ProcessorCount,
            AioContext.GetLimits(AioEngineKind.Auto).Engine,
            engines,
            IoUringOf(IoUringCapabilities.Probe()),
            limits,
            LoopProbe.Run(),
            path is null ? null : GatherPath(path));
    }

    private static SoftHard? SoftHardOf((string Soft, string Hard)? limit) =>
        limit is (string soft, string hard) ? new SoftHard(soft, hard) : null;

    /// <summary>The library's io_uring probe, with what means nothing when setup fails (features, the probe's errno)
    /// left out, and no opcode list when the kernel gave no answer.</summary>
    private static IoUringFacts IoUringOf(IoUringCapabilities kernel)
    {
        bool works = kernel.SetupErrorCode == 0;
        bool answered = works && kernel.ProbeErrorCode == 0;
        return new IoUringFacts(
            works, ErrnoFacts.From(kernel.SetupErrorCode), works ? kernel.FeatureNames : null,
            answered ? kernel.SupportedOpcodes : null, works ? ErrnoFacts.From(kernel.ProbeErrorCode) : null);
    }

    private static PathFacts GatherPath(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        bool isDirectory = Directory.Exists(full);
        if (!isDirectory && !File.Exists(full))
        {
            throw IoFailureException.FromErrno("stat", full, ErrnoText.ENOENT);
        }
        string canonical = FileSystemCalls.RealPath(full);
        (DirectIoFacts directIo, AioEngineKind recommended) = Probe(full, isDirectory);
        return new PathFacts(
            full,
            canonical,
            isDirectory ? PathKind.Directory : PathKind.File,
            isDirectory ? null : new FileInfo(full).Length,
            MountTable.Find(canonical) is { } mount ? new FileSystemFacts(mount.FileSystem, mount.Source, mount.MountPoint, mount.Options, mount.IsFuse) : null,
            recommended == AioEngineKind.Auto ? AioContext.GetLimits(AioEngineKind.Auto).Engine : recommended,
            directIo);
    }

    /// <summary>Opens the file (or a probe file created in the directory) without and then with O_DIRECT: what direct
    /// I/O does there, and the engine FileAio recommends there (<see cref="AioFile.RecommendedEngine"/>; Auto when the
    /// file cannot be opened).</summary>
    private static (DirectIoFacts DirectIo, AioEngineKind Recommended) Probe(string path, bool isDirectory)
    {
        string target = isDirectory ? System.IO.Path.Combine(path, $".fileaio-info-{Environment.ProcessId}-{Guid.NewGuid():N}") : path;
        try
        {
            AioAlignment alignment;
            AioEngineKind recommended;
            using (SafeFileHandle plain = isDirectory
                ? AioFile.OpenHandle(target, FileMode.CreateNew, FileAccess.ReadWrite)
                : AioFile.OpenHandle(target, FileMode.Open, FileAccess.Read))
            {
                alignment = AioFile.GetAlignment(plain);
                recommended = AioFile.RecommendedEngine(plain);
            }
            if (!alignment.SupportsDirectIo)
            {
                return (DirectIoFacts.With(DirectIoStatus.Unsupported, "the kernel says so for this file", alignment), recommended);
            }
            try
            {
                using SafeFileHandle direct = AioFile.OpenHandle(target, FileMode.Open, FileAccess.Read, direct: true);
                return (DirectIoFacts.With(DirectIoStatus.Works, null, alignment), recommended);
            }
            catch (IOException e)
            {
                return (DirectIoFacts.With(DirectIoStatus.Refused, DescribeError(e), alignment), recommended);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string problem = (isDirectory ? "cannot create a probe file here: " : "cannot open the file: ") + DescribeError(e);
            return (new DirectIoFacts(DirectIoStatus.Unknown, problem, null, null, null), AioEngineKind.Auto);
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

    private static string DescribeError(Exception e) => ErrnoText.Describe(e);
}
