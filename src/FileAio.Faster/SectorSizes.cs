using System.Collections.Concurrent;
using FileAio;

namespace FileAio.Faster;

/// <summary>
/// The sector size a device reports to FASTER: the direct-I/O alignment of files in its directory, from FileAio's
/// alignment query (<c>statx</c> <c>STATX_DIOALIGN</c>, else the device's logical block size). FASTER aligns its buffer
/// addresses, file offsets and lengths to it, which is exactly what O_DIRECT needs; it also refuses pages smaller than
/// it, so the real logical block size (512 on most disks), not a page-sized 4096, keeps FASTER's small-page
/// configurations working.
/// </summary>
/// <remarks>The query needs an open file. A device is built before any segment exists, and FASTER builds a new one for
/// every checkpoint commit, in a new directory for every checkpoint token; so the answer is learned once per file
/// system, from a probe file created and deleted in the first directory asked about there, and cached for the process:
/// the cache holds one entry per file system the process uses, however many directories it makes. The alignment is a
/// property of the file system and its block device; a file system that gives some files a stricter rule (ext4 with
/// fscrypt encrypts per directory tree) would need the per-directory answer, which is what a platform without
/// <see cref="FileSystemIds"/> gets.</remarks>
internal static class SectorSizes
{
    private static readonly ConcurrentDictionary<string, AioAlignment> s_byFileSystem = new(StringComparer.Ordinal);
    private static int s_probes;

    /// <summary>Probe files made so far (each one a file created, queried and deleted).</summary>
    internal static int Probes => Volatile.Read(ref s_probes);

    /// <exception cref="NotSupportedException"><paramref name="direct"/> on a file system that refuses direct I/O.</exception>
    public static uint For(string filename, bool direct)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(filename))!;
        Directory.CreateDirectory(directory);
        string key = FileSystemIds.Of(directory) is (uint major, uint minor) ? $"dev {major}:{minor}" : "dir " + directory;
        AioAlignment alignment = s_byFileSystem.GetOrAdd(key, static (_, directory) => Probe(directory), directory);
        if (direct && !alignment.SupportsDirectIo)
        {
            throw new NotSupportedException(
                $"The file system of '{directory}' does not support direct I/O; use FileAioDeviceOptions {{ Direct = false }} there.");
        }
        // FASTER aligns addresses and offsets to one number: the stricter of the two rules.
        return (uint)Math.Max(alignment.MemoryAlignment, alignment.OffsetAlignment);
    }

    private static AioAlignment Probe(string directory)
    {
        Interlocked.Increment(ref s_probes);
        string probe = Path.Combine(directory, $".fileaio-sector-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using var handle = File.OpenHandle(probe, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
            return AioFile.GetAlignment(handle);
        }
        finally
        {
            File.Delete(probe); // DeleteOnClose already did on Linux; harmless if so
        }
    }
}
