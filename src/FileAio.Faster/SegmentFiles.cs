using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using FileAio;

namespace FileAio.Faster;

/// <summary>
/// The open segment files of one device, <c>&lt;filename&gt;.&lt;segment&gt;</c> as FASTER names them, each an
/// <see cref="AioFile"/> opened on first use.
/// </summary>
/// <remarks>Lookups of an open segment take no lock and allocate nothing (the I/O path); opening, removing and closing
/// are rare and take <c>_gate</c>, so two I/Os racing to a new segment open it once, and none opens a segment after its
/// removal has begun. Only writes create files: a read of a segment without one finds nothing, and a removed segment is
/// never opened again.</remarks>
internal sealed class SegmentFiles
{
    private readonly ConcurrentDictionary<int, AioFile> _open = new();
    private volatile AioFile[] _openFiles = [];     // _open's files, replaced under _gate at each change, read without it
    private readonly Lock _gate = new();
    private readonly RemovedSegments _removed = new();  // guarded by _gate
    private readonly Func<int, string> _pathOf;
    private readonly FileAioDeviceOptions _options;
    private bool _closed;

    public SegmentFiles(Func<int, string> pathOf, FileAioDeviceOptions options)
    {
        _pathOf = pathOf;
        _options = options;
    }

    /// <summary>Whether each write must be followed by an fdatasync of its file before FASTER hears of it: write-through
    /// on a buffered (not <see cref="FileAioDeviceOptions.Direct"/>) device. Its files are opened without O_SYNC, since
    /// io_uring serialises a file's buffered writes on one kernel worker (it hashes them by inode), and with O_SYNC each
    /// of those writes would also wait for the disk in turn; measured on this machine, 4 concurrent 4 MiB O_SYNC writes
    /// ran 2.4–2.6× slower through io_uring than from 4 threads. An fdatasync after the write is not serialised, and
    /// concurrent ones share the file system's journal commits.</summary>
    public bool SyncsAfterWrites => _options.WriteThrough && !_options.Direct;

    /// <summary>Whether the files resume their awaiters on the engine thread (FileAio's inline mode), for
    /// <see cref="FileAioDeviceOptions.InlineReadCallbacks"/>.</summary>
    public bool ResumeOnEngineThread => _options.InlineReadCallbacks;

    /// <summary>Bytes to reserve when a segment file is created (set once FASTER tells the segment size).</summary>
    public long PreallocationSize { get; set; }

    /// <summary>The segment's file, opened now if it is not open yet; created only for a write (<paramref name="create"/>).
    /// Null for a read of a segment that has no file.</summary>
    /// <exception cref="ObjectDisposedException">The device was disposed, or the segment removed.</exception>
    public AioFile? Get(int segment, bool create) => _open.TryGetValue(segment, out AioFile? file) ? file : Open(segment, create);

    private AioFile? Open(int segment, bool create)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_removed.Contains(segment))
            {
                ThrowRemoved(segment);
            }
            if (_open.TryGetValue(segment, out AioFile? file))
            {
                return file;
            }
            try
            {
                file = AioFile.Open(_pathOf(segment), create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, new AioFileOptions
                {
                    Direct = _options.Direct,
                    // Buffered write-through is an fdatasync after each write instead (SyncsAfterWrites): io_uring runs a
                    // file's buffered writes one at a time, so O_SYNC there would serialise every page flush of a segment.
                    WriteThrough = _options.WriteThrough && _options.Direct,
                    Engine = _options.Engine,
                    // Continuations on the engine thread; DeviceIo hops off at once for every I/O but the reads whose
                    // callbacks may run there (EngineThreadCallbacks).
                    InlineCompletions = _options.InlineReadCallbacks,
                    // Other FASTER instances may open the same log (a read-only FasterLog, recovery) and delete its files.
                    Share = FileShare.ReadWrite | FileShare.Delete,
                    PreallocationSize = create ? PreallocationSize : 0, // .NET reserves space only when it may create
                });
            }
            catch (Exception e) when (!create && e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            _open[segment] = file;
            _openFiles = [.. _open.Values];
            return file;
        }
    }

    [DoesNotReturn]
    private void ThrowRemoved(int segment) =>
        throw new ObjectDisposedException(_pathOf(segment), "The segment was removed; it is not opened again.");

    /// <summary>The operations FileAio has not completed yet on the open files (those closing are no longer counted).
    /// Allocates nothing: it reads a snapshot of the open files.</summary>
    public int OperationsInFlight()
    {
        int count = 0;
        foreach (AioFile file in _openFiles)
        {
            count += file.OperationsInFlight;
        }
        return count;
    }

    /// <summary>The length of the segment's file: of the open file, else of the file on disk (0 when there is none;
    /// no file is created to answer).</summary>
    public long Length(int segment)
    {
        if (_open.TryGetValue(segment, out AioFile? file))
        {
            try
            {
                return file.Length;
            }
            catch (ObjectDisposedException)
            {
                // Closed since the lookup (a removal, Reset or Dispose): what is on disk now is the answer.
            }
        }
        var info = new FileInfo(_pathOf(segment));
        return info.Exists ? info.Length : 0;
    }

    /// <summary>Marks the segment removed — no I/O opens it from now on — and takes its file, if open, out of the open
    /// ones, for <see cref="CloseAndDelete"/> or <see cref="CloseAndDeleteAsync"/>. <paramref name="startSegment"/> is
    /// the device's <c>StartSegment</c> now.</summary>
    public AioFile? Detach(int segment, int startSegment)
    {
        lock (_gate)
        {
            _removed.Add(segment, startSegment);
            _open.TryRemove(segment, out AioFile? file);
            _openFiles = [.. _open.Values];
            return file;
        }
    }

    /// <summary>Closes a detached segment's file — waiting for its operations to leave the kernel — and deletes it.</summary>
    public void CloseAndDelete(int segment, AioFile? file)
    {
        file?.Dispose();
        TryDelete(_pathOf(segment));
    }

    /// <summary>As <see cref="CloseAndDelete"/>, waiting asynchronously.</summary>
    public async ValueTask CloseAndDeleteAsync(int segment, AioFile? file)
    {
        if (file is not null)
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
        TryDelete(_pathOf(segment));
    }

    /// <summary>Whether <paramref name="file"/>, once the segment's, was closed by <see cref="CloseAll"/> without
    /// <c>final</c> (FASTER's <c>Reset</c>): the segment is neither removed nor the device closed, and the file is not
    /// its open one any more, so <see cref="Get"/> opens it anew.</summary>
    public bool WasClosedByReset(int segment, AioFile file)
    {
        lock (_gate)
        {
            return !_closed && !_removed.Contains(segment)
                && !(_open.TryGetValue(segment, out AioFile? current) && current == file);
        }
    }

    /// <summary>Closes every open file, deleting it when <paramref name="delete"/>. With <paramref name="final"/>, no file
    /// opens again (Dispose); without, the next I/O reopens (FASTER's <c>Reset</c>).</summary>
    public void CloseAll(bool delete, bool final)
    {
        List<KeyValuePair<int, AioFile>> files;
        lock (_gate)
        {
            _closed |= final;
            files = [.. _open];
            _open.Clear();
            _openFiles = [];
        }
        foreach ((int segment, AioFile file) in files)
        {
            file.Dispose();
            if (delete)
            {
                TryDelete(_pathOf(segment));
            }
        }
    }

    /// <summary>The segment numbers of <c>&lt;baseName&gt;.&lt;number&gt;</c> files in <paramref name="directory"/>,
    /// ascending. Other files sharing the prefix (<c>hlog.log.obj.0</c> beside <c>hlog.log.0</c>) are not segments.</summary>
    public static List<int> Existing(string directory, string baseName)
    {
        var found = new List<int>();
        if (!Directory.Exists(directory))
        {
            return found;
        }
        string prefix = baseName + ".";
        foreach (string path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            string suffix = Path.GetFileName(path)[prefix.Length..];
            if (suffix.Length > 0 && suffix.All(char.IsAsciiDigit)
                && int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out int segment))
            {
                found.Add(segment);
            }
        }
        found.Sort();
        return found;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Gone already, or its directory is: nothing left to remove.
        }
        catch (UnauthorizedAccessException)
        {
            // As FASTER's own devices do, a file that cannot be deleted is left behind rather than failing the caller.
        }
    }
}
