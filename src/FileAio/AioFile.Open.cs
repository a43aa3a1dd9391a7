using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio;

/// <summary>Opening files, and the static helpers about them.</summary>
public sealed partial class AioFile
{
    /// <summary>Opens (or creates) a file for asynchronous I/O.</summary>
    /// <exception cref="IOException">The file cannot be opened, or its file system refuses direct I/O.</exception>
    /// <exception cref="NotSupportedException">The engine asked for cannot run here; the message says why.</exception>
    public static AioFile Open(string path, FileMode mode, FileAccess access, AioFileOptions? options = null)
    {
        options ??= new AioFileOptions();
        AioEngineHost host = options.Host ?? AioEngineHost.GetShared(options.Engine);
        SafeFileHandle handle = OpenHandleCore(path, mode, access, options.Share, options.PreallocationSize, options.Direct,
            options.WriteThrough ? FileOptions.WriteThrough : FileOptions.None);
        try
        {
            bool auto = options.Host is null ? options.Engine == AioEngineKind.Auto : options.Host.IsSharedAuto;
            IReadOnlyList<AioLimits> passedOver = host.PassedOverEngines;
            if (auto && host.Engine != AioEngineKind.ThreadPool && NotForThisFile(host.Engine, handle, options.Direct) is string why)
            {
                passedOver = [.. passedOver, AioContext.GetLimits(host.Engine) with { UnsupportedReason = why }];
                host = AioEngineHost.GetShared(AioEngineKind.ThreadPool);
            }
            return new AioFile(handle, System.IO.Path.GetFullPath(path), options, host)
            {
                PassedOverEngines = passedOver,
            };
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Why Auto's engine is not used for this file (it then goes to the thread-pool engine), or null.</summary>
    private static string? NotForThisFile(AioEngineKind engine, SafeFileHandle handle, bool direct)
    {
        if (RecommendedEngine(handle) == AioEngineKind.ThreadPool)
        {
            return "passed over for this file: it is on FUSE, where positional calls are the shorter path";
        }
        if (engine == AioEngineKind.LinuxAio && !direct)
        {
            return "passed over for this file: it is not opened for direct I/O, and Linux AIO would do a buffered transfer inside io_submit";
        }
        return null;
    }

    /// <summary>
    /// Opens a file for positional I/O, optionally with direct I/O: real O_DIRECT on Linux, which .NET's
    /// <see cref="FileOptions"/> silently drops there. Sharing is <see cref="FileShare.Read"/>, as
    /// <see cref="File.OpenHandle"/> does by default.
    /// </summary>
    /// <param name="path">The file to open.</param>
    /// <param name="mode">How to open or create it.</param>
    /// <param name="access">Read, write, or both.</param>
    /// <param name="direct">Bypass the page cache. Transfers on the handle must then follow
    /// <see cref="GetAlignment"/>; FileAio checks that and says which rule a request breaks.</param>
    /// <exception cref="IOException">The file cannot be opened, or its file system refuses direct I/O; the message
    /// carries the errno and the path, and <see cref="Exception.HResult"/> is the errno (as .NET does on Unix).</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="direct"/> on an OS where FileAio does not implement it.</exception>
    public static SafeFileHandle OpenHandle(string path, FileMode mode, FileAccess access, bool direct = false) =>
        OpenHandleCore(path, mode, access, FileShare.Read, 0, direct, FileOptions.None);

    private static SafeFileHandle OpenHandleCore(string path, FileMode mode, FileAccess access, FileShare share,
        long preallocationSize, bool direct, FileOptions fileOptions)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle = File.OpenHandle(path, mode, access, share, fileOptions, preallocationSize);
        if (!direct)
        {
            return handle;
        }
        try
        {
            DirectIo.Enable(handle, path);
            FileFacts.RememberDirect(handle, FileAlignment.Get(handle));
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The engine to run <paramref name="file"/> on when the choice is left to FileAio: <see cref="AioEngineKind.ThreadPool"/>
    /// for a file on FUSE, or on a file system that does not answer <c>fstatfs</c> (on FUSE its own process answers, and
    /// may fail it just when it fails reads); <see cref="AioEngineKind.Auto"/> otherwise. The kernel's io_uring misreads
    /// a FUSE read that comes back short (docs/engines.md, IoUring, "FUSE"); the io_uring engine itself serves such files
    /// with positional calls on worker threads, so the answer is about the shorter path, not about correctness.
    /// <see cref="Open"/> applies it under Auto.
    /// </summary>
    public static AioEngineKind RecommendedEngine(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        ObjectDisposedException.ThrowIf(file.IsClosed, file);
        return FuseFiles.IsOnFuse(file) ? AioEngineKind.ThreadPool : AioEngineKind.Auto;
    }

    /// <summary>
    /// The alignment direct I/O needs on <paramref name="file"/>: from <c>statx</c>'s <c>STATX_DIOALIGN</c> (Linux 6.1+),
    /// else the logical block size of the device holding it, else 4096. Meaningful whether or not the handle is
    /// open for direct I/O right now.
    /// </summary>
    public static AioAlignment GetAlignment(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        ObjectDisposedException.ThrowIf(file.IsClosed, file);
        DirectIoAlignment alignment = FileAlignment.Get(file);
        return new AioAlignment(alignment.Memory, alignment.Offset, alignment.Supported, (AioAlignmentSource)alignment.Source);
    }
}
