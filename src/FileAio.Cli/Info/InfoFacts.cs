using System.Runtime.InteropServices;
using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Info;

/// <summary>
/// What <c>fileaio info</c> reports, gathered once and then written as text (<see cref="InfoText"/>) or JSON
/// (<see cref="InfoJson"/>), so that both say the same thing.
/// </summary>
internal sealed record InfoFacts(
    string FileAioVersion,
    string DotnetVersion,
    string Os,
    string Architecture,
    int Cpus,
    AioEngineKind AutoEngine,
    IReadOnlyList<(AioEngineKind Kind, AioLimits Limits)> Engines,
    IoUringFeatures.Report IoUring,
    InfoFacts.LimitFacts Limits,
    InfoFacts.PathFacts? Path)
{
    /// <summary>Process and system limits, as the kernel words them ("unlimited" stays a word); null where absent.</summary>
    internal sealed record LimitFacts(
        (string Soft, string Hard)? MemLock,
        (string Soft, string Hard)? NoFile,
        string? IoUringDisabled,
        string? IoUringGroup,
        string? AioMaxNr,
        string? AioNr,
        int ThreadPoolWorkersPerContext);

    /// <summary>A path: what it is, the mount holding it, the engine <c>auto</c> runs there, and direct I/O.</summary>
    internal sealed record PathFacts(
        string FullPath,
        string CanonicalPath,
        bool IsDirectory,
        long? Size,
        MountTable.Mount? Mount,
        AioEngineKind AutoEngine,
        DirectIoFacts DirectIo);

    /// <summary>Whether O_DIRECT opens there ("works", "refused", "unsupported" or "unknown"), why not, and the
    /// alignment it needs (null when the file could not be opened at all).</summary>
    internal sealed record DirectIoFacts(string Status, string? Problem, AioAlignment? Alignment);

    /// <summary>Looks everything up. A missing <paramref name="path"/> is an <see cref="IoFailureException"/> (ENOENT).</summary>
    public static InfoFacts Gather(string? path)
    {
        var engines = new[] { AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio, AioEngineKind.ThreadPool }
            .Select(kind => (kind, AioContext.GetLimits(kind)))
            .ToList();
        var limits = new LimitFacts(
            SystemLimits.ProcessLimit("Max locked memory"),
            SystemLimits.ProcessLimit("Max open files"),
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
            IoUringFeatures.Probe(),
            limits,
            path is null ? null : GatherPath(path));
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
            isDirectory,
            isDirectory ? null : new FileInfo(full).Length,
            MountTable.Find(canonical),
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
                return (new DirectIoFacts("unsupported", "the kernel says so for this file", alignment), recommended);
            }
            try
            {
                using SafeFileHandle direct = AioFile.OpenHandle(target, FileMode.Open, FileAccess.Read, direct: true);
                return (new DirectIoFacts("works", null, alignment), recommended);
            }
            catch (IOException e)
            {
                return (new DirectIoFacts("refused", DescribeError(e), alignment), recommended);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (new DirectIoFacts("unknown",
                (isDirectory ? "cannot create a probe file here: " : "cannot open the file: ") + DescribeError(e), null), AioEngineKind.Auto);
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
}
