using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary>
/// What is checked about the data file before anything is written to it: that an existing file holds at least one
/// block, and the alignment the O_DIRECT cases need. Both run before <see cref="BenchFile.Prepare"/>, so a bench that
/// cannot run refuses at once instead of after writing a gigabyte.
/// </summary>
internal static class BenchFileChecks
{
    /// <summary>The refusal for an existing <c>--file</c> that holds less than one block, when <c>--size</c> was not
    /// given: what the file reports, and <c>--size</c> only where it would help — a regular file on a file system that
    /// stores data. Files in /proc and /sys report sizes that say nothing of their contents (0, or 4096), and --size on a
    /// device would overwrite the device.</summary>
    public static string TooSmall(string path, long length, int blockSize)
    {
        string block = $"one {Sizes.Format(blockSize)} block";
        if (!FileSystemCalls.IsRegularFile(path))
        {
            return $"--file: {path} reports a size of {length} bytes, too small for {block}; it is not a regular file (a device, FIFO or socket)";
        }
        string directory = Path.GetDirectoryName(path)!;
        if (StorageBytes(directory) is 0)
        {
            string fileSystem = FileSystemName(directory);
            return $"--file: {path} reports a size of {length} bytes, too small for {block}; it is on {fileSystem}, which stores no data, so give a --file on a disk";
        }
        return length == 0
            ? $"--file: {path} is empty, too small for {block}; add --size (for example --size 1g) to fill it with bench data"
            : $"--file: {path} holds only {Sizes.Format(length)}, too small for {block}; add --size (for example --size 1g) to fill it with bench data (overwriting it), or give a smaller --bs";
    }

    /// <summary>The alignment direct I/O needs on <paramref name="path"/>, opening it with O_DIRECT (which a file system
    /// may refuse: an I/O error, exit 3). A file not created yet is stood in for by an empty probe file in its directory,
    /// removed at once: the file system, not the file, decides the alignment.</summary>
    public static AioAlignment DirectIoAlignment(string path)
    {
        bool exists = File.Exists(path);
        string directory = Path.GetDirectoryName(path)!;
        if (!exists && !Directory.Exists(directory))
        {
            throw IoFailureException.FromErrno("create", path, ErrnoText.ENOENT);
        }
        string target = exists ? path : Path.Combine(directory, $".fileaio-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using SafeFileHandle probe = exists
                ? AioFile.OpenHandle(target, FileMode.Open, FileAccess.Read, direct: true)
                : AioFile.OpenHandle(target, FileMode.CreateNew, FileAccess.ReadWrite, direct: true);
            return AioFile.GetAlignment(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(exists ? "open (O_DIRECT)" : "create (O_DIRECT)", target, e);
        }
        finally
        {
            if (!exists)
            {
                TryDelete(target);
            }
        }
    }

    /// <summary>The size of the file system holding <paramref name="directory"/>: 0 for one without storage (proc,
    /// sysfs), null when unknown.</summary>
    private static long? StorageBytes(string directory)
    {
        try
        {
            return new DriveInfo(directory).TotalSize;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string FileSystemName(string directory)
    {
        try
        {
            return new DriveInfo(directory).DriveFormat;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return "a file system";
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A probe that could not be removed is a leftover of zero bytes; the bench goes on (or fails) as it would.
        }
    }
}
