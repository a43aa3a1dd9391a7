using System.Diagnostics;
using FASTER.core;

namespace FileAio.Faster;

/// <summary>
/// Makes <see cref="FileAioDevice"/>s for FASTER's checkpoint and commit files, in place of its
/// <c>LocalStorageNamedDeviceFactory</c> (which makes FASTER's own devices): pass it to
/// <c>DeviceLogCommitCheckpointManager</c> so that checkpoints and FasterLog commits go through FileAio too.
/// </summary>
/// <remarks>FASTER asks for a new device for every commit and reads or writes it once without <c>Initialize</c>, so the
/// devices it gets here are cheap to make (no file opens until the first I/O; the sector size is learned once per
/// file system). A file descriptor names <c>&lt;baseName&gt;/&lt;directory&gt;/&lt;file&gt;</c>, whose one segment is
/// <c>&lt;file&gt;.0</c>.</remarks>
public sealed class FileAioNamedDeviceFactory : INamedDeviceFactory
{
    private readonly bool _preallocateFile;
    private readonly bool _deleteOnClose;
    private readonly int? _throttleLimit;
    private readonly FileAioDeviceOptions? _options;
    private string _baseName = "";

    /// <summary>How long <see cref="Delete"/> keeps retrying: 5 s, as FASTER's own factory does.</summary>
    internal TimeSpan DeleteRetryTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Creates the factory; the devices it makes get these settings.</summary>
    /// <param name="preallocateFile">As for <see cref="FileAioDevice"/>.</param>
    /// <param name="deleteOnClose">As for <see cref="FileAioDevice"/>.</param>
    /// <param name="throttleLimit">The devices' <c>ThrottleLimit</c>, overriding the options' in-flight limit.</param>
    /// <param name="options">Engine, direct I/O and limits; defaults when null.</param>
    public FileAioNamedDeviceFactory(bool preallocateFile = false, bool deleteOnClose = false, int? throttleLimit = null,
        FileAioDeviceOptions? options = null)
    {
        _preallocateFile = preallocateFile;
        _deleteOnClose = deleteOnClose;
        _throttleLimit = throttleLimit;
        _options = options;
    }

    /// <inheritdoc/>
    public void Initialize(string baseName) => _baseName = baseName;

    /// <inheritdoc/>
    public IDevice Get(FileDescriptor fileInfo)
    {
        var device = new FileAioDevice(Path.Combine(_baseName, fileInfo.directoryName, fileInfo.fileName),
            _preallocateFile, _deleteOnClose, options: _options);
        if (_throttleLimit is int limit)
        {
            device.ThrottleLimit = limit;
        }
        return device;
    }

    /// <inheritdoc/>
    public IEnumerable<FileDescriptor> ListContents(string path)
    {
        var directory = new DirectoryInfo(Path.Combine(_baseName, path));
        if (!directory.Exists)
        {
            yield break;
        }
        // Newest first, as FASTER's own factory lists them: recovery takes the first checkpoint that reads back whole.
        foreach (DirectoryInfo folder in directory.GetDirectories().OrderByDescending(f => f.LastWriteTimeUtc))
        {
            yield return new FileDescriptor(folder.Name, "");
        }
        foreach (FileInfo file in directory.GetFiles().OrderByDescending(f => f.LastWriteTimeUtc))
        {
            yield return new FileDescriptor("", file.Name);
        }
    }

    /// <summary>Deletes a checkpoint's or commit's file (<c>&lt;file&gt;.0</c>) or directory. A delete that fails is retried
    /// for up to 5 s, then given up without an exception, as FASTER's own factory does: FASTER calls this for outdated
    /// checkpoints once a newer one is written, where an exception would fail a checkpoint that succeeded, and what is
    /// left behind is only disk space.</summary>
    public void Delete(FileDescriptor fileInfo)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                DeleteOnce(fileInfo);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Busy (a mount point, a file system that says EBUSY) or refused for now: try again, until the deadline.
            }
            if (Stopwatch.GetElapsedTime(start) >= DeleteRetryTime)
            {
                return;
            }
            Thread.Sleep(10); // FASTER spins with Thread.Yield; a pause holds no core for the 5 s
        }
    }

    private void DeleteOnce(FileDescriptor fileInfo)
    {
        if (fileInfo.fileName is not null)
        {
            string segment = Path.Combine(_baseName, fileInfo.directoryName, fileInfo.fileName + ".0");
            if (File.Exists(segment))
            {
                File.Delete(segment); // Linux lets a file be unlinked while open
            }
        }
        else
        {
            string directory = Path.Combine(_baseName, fileInfo.directoryName);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
