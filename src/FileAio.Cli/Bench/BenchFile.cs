using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary>
/// The data file the cases share: created (or extended) with non-zero, never-repeating data and fsync'd, so that it
/// has real extents and no holes, and O_DIRECT cases read the device rather than zero pages; read through once when
/// cached cases need the page cache warm.
/// </summary>
internal static class BenchFile
{
    // Large sequential transfers: creating or reading 1 GiB takes seconds, not minutes.
    private const int ChunkSize = 8 << 20;

    /// <summary>Makes sure <paramref name="path"/> holds at least <paramref name="size"/> bytes of bench data. Returns
    /// true when it wrote them now (its pages are then in the page cache, and on the device after the fsync).</summary>
    public static bool Prepare(string path, long size, ProgressScope progress, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (info.Exists && info.Length >= size)
        {
            return false;
        }
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            throw IoFailureException.FromErrno("create", path, ErrnoText.ENOENT);
        }
        long needed = size - (info.Exists ? info.Length : 0);
        long free = FreeSpace(directory);
        if (free >= 0 && free < needed)
        {
            throw new IoFailureException(
                $"create {path} failed: {Sizes.Human(needed)} needed but only {Sizes.Human(free)} free there " +
                $"({ErrnoText.Describe(ErrnoText.ENOSPC)}); use --size or a --file elsewhere")
            {
                Errno = 28,
                Path = path,
            };
        }

        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            using var chunk = new AlignedBuffer(ChunkSize);
            BenchData.FillBlock(chunk.GetSpan(), 0xF11E_DA7AUL);
            ProgressReporter reporter = progress.Start($"creating {path} ({Sizes.Format(size)})", size);
            for (long offset = 0; offset < size; offset += ChunkSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int length = (int)Math.Min(ChunkSize, size - offset);
                Span<byte> span = chunk.GetSpan()[..length];
                BenchData.StampOffsets(span, offset);
                RandomAccess.Write(file, span, offset);
                reporter.Advance(length);
            }
            RandomAccess.FlushToDisk(file); // O_DIRECT cases must find the data on the device
            reporter.Complete();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException("create", path, e);
        }
    }

    /// <summary>Reads the first <paramref name="size"/> bytes once, so the cached cases read memory, not the device.</summary>
    public static void WarmPageCache(string path, long size, ProgressScope progress, CancellationToken cancellationToken)
    {
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            using var chunk = new AlignedBuffer(ChunkSize);
            ProgressReporter reporter = progress.Start($"reading {path} into the page cache", size);
            for (long offset = 0; offset < size;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int read = RandomAccess.Read(file, chunk.GetSpan()[..(int)Math.Min(ChunkSize, size - offset)], offset);
                if (read == 0)
                {
                    break;
                }
                offset += read;
                reporter.Advance(read);
            }
            reporter.Complete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException("read", path, e);
        }
    }

    /// <summary>fsyncs the file: after cached writes, so that dirty pages do not flush during the next case.</summary>
    public static void Sync(string path)
    {
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.FlushToDisk(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException("fsync", path, e);
        }
    }

    /// <summary>Free bytes for an unprivileged writer on the file system holding <paramref name="directory"/>, or -1.</summary>
    private static long FreeSpace(string directory)
    {
        try
        {
            return new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
