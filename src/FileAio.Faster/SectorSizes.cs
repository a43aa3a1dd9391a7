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
/// <remarks>The query needs an open file. A device is built before any segment exists (and FASTER builds a new one for
/// every checkpoint commit), so the answer is learned once per directory, from a probe file created and deleted there,
/// and cached for the process.</remarks>
internal static class SectorSizes
{
    private static readonly ConcurrentDictionary<string, AioAlignment> s_byDirectory = new(StringComparer.Ordinal);

    /// <exception cref="NotSupportedException"><paramref name="direct"/> on a file system that refuses direct I/O.</exception>
    public static uint For(string filename, bool direct)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(filename))!;
        AioAlignment alignment = s_byDirectory.GetOrAdd(directory, Probe);
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
        Directory.CreateDirectory(directory);
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
