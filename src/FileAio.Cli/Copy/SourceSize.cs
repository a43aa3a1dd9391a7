using FileAio.Cli.Platform;

namespace FileAio.Cli.Copy;

/// <summary>Whether the size the kernel reports for a copy's source is the length of its data, so that the copy can
/// split it into chunks read in parallel; when it is not, the source is read to its end (<see cref="ReadToEndCopy"/>).</summary>
internal static class SourceSize
{
    /// <summary>Kernel file systems whose files are generated as they are read: their size says nothing of what a read
    /// returns (procfs reports 0, sysfs the page size, debugfs and tracefs mostly 0), and none of them does
    /// O_DIRECT.</summary>
    private static readonly HashSet<string> s_generatedOnRead =
        ["proc", "sysfs", "debugfs", "tracefs", "securityfs", "configfs", "cgroup", "cgroup2", "bpf"];

    /// <summary>False for a file on one of those file systems, and for anything that is not a regular file or reports
    /// 0 bytes (a FIFO, a character device, a regular file of 0 bytes, which may be one of those too), read to its end
    /// as cp reads every file. <paramref name="attributes"/> is null where the kernel gives no statx (not Linux).</summary>
    public static bool IsKnown(string path, UnixAttributes? attributes)
    {
        if (attributes is null)
        {
            return new FileInfo(path).Length > 0;
        }
        if (!attributes.IsRegularFile || attributes.Size == 0)
        {
            return false;
        }
        return MountTable.Find(FileSystemCalls.RealPath(path)) is not { } mount || !s_generatedOnRead.Contains(mount.FileSystem);
    }
}
