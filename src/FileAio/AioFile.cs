using System.Runtime.CompilerServices;
using FileAio.Async;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio;

/// <summary>
/// A file for asynchronous positional I/O: <see cref="ValueTask"/> reads, writes and flushes served by io_uring (the
/// thread-pool engine where io_uring cannot run), with real O_DIRECT when asked. Also the home of the static helpers
/// <see cref="OpenHandle"/> and <see cref="GetAlignment"/>.
/// </summary>
/// <remarks>
/// <para>Threading: every method may be called from any thread, by any number of callers at once. Continuations run
/// on the thread pool, never on an engine thread. In steady state an operation allocates nothing (pooled value-task
/// sources, no closures, no boxing; cancellation registrations aside).</para>
/// <para>Buffers are pinned, and the handle kept open, until the kernel is done with the operation; a cancelled
/// operation ends with <see cref="OperationCanceledException"/> only once the kernel will not touch its buffer.</para>
/// <para>Errors are <see cref="IOException"/>s whose message carries the errno and the path and whose
/// <see cref="Exception.HResult"/> is the errno.</para>
/// </remarks>
public sealed class AioFile : IDisposable, IAsyncDisposable
{
    private readonly IAsyncWorker _worker;
    private readonly Action<AioFileOperation> _requestCancel;   // _worker.RequestCancel, made once (not per call)
    private readonly OperationPool _pool;
    private readonly AioAlignment _alignment;          // meaningful when IsDirect
    private readonly PageCacheReads? _cachedReads;     // the page-cache fast path, when on
    private int _inFlight;
    private int _disposed;
    private TaskCompletionSource? _drained;            // set when disposal waits for operations in flight

    private AioFile(SafeFileHandle handle, string path, bool direct, bool inlineCachedReads, AioEngineHost host)
    {
        Handle = handle;
        Path = path;
        IsDirect = direct;
        _alignment = direct ? FileIoInfo.Of(handle).Alignment : default; // remembered by OpenHandleCore: no statx again
        _cachedReads = inlineCachedReads && !direct && OperatingSystem.IsLinux() ? new PageCacheReads() : null;
        _worker = host.AssignWorker();
        _requestCancel = _worker.RequestCancel;
        _pool = host.Pool;
    }

    /// <summary>Opens (or creates) a file for asynchronous I/O.</summary>
    /// <exception cref="IOException">The file cannot be opened, or its file system refuses direct I/O.</exception>
    /// <exception cref="NotSupportedException">The engine asked for cannot run here; the message says why.</exception>
    public static AioFile Open(string path, FileMode mode, FileAccess access, AioFileOptions? options = null)
    {
        options ??= new AioFileOptions();
        AioEngineHost host = options.Host ?? AioEngineHost.GetShared(options.Engine);
        SafeFileHandle handle = OpenHandleCore(path, mode, access, options.Share, options.PreallocationSize, options.Direct);
        try
        {
            bool auto = options.Host is null ? options.Engine == AioEngineKind.Auto : options.Host.IsSharedAuto;
            if (auto && host.Engine == AioEngineKind.IoUring && RecommendedEngine(handle) == AioEngineKind.ThreadPool)
            {
                host = AioEngineHost.GetShared(AioEngineKind.ThreadPool);
            }
            return new AioFile(handle, System.IO.Path.GetFullPath(path), options.Direct, options.InlineCachedReads, host);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The operating-system handle. Do not close it; dispose the <see cref="AioFile"/>.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The full path the file was opened with (as given in error messages).</summary>
    public string Path { get; }

    /// <summary>Whether the file bypasses the page cache.</summary>
    public bool IsDirect { get; }

    /// <summary>The engine that serves this file.</summary>
    public AioEngineKind Engine => _worker.Engine;

    /// <summary>The file's size in bytes.</summary>
    public long Length => RandomAccess.GetLength(Handle);

    /// <summary>Sets the file's size (extends with zeroes or truncates).</summary>
    public void SetLength(long length) => RandomAccess.SetLength(Handle, length);

    // ------------------------------------------------------------------------------------------------------------
    // Operations.

    /// <summary>Reads into <paramref name="buffer"/> from <paramref name="offset"/>; returns the bytes read, which may be
    /// fewer than asked (0 at or past the end of the file).</summary>
    /// <remarks>When the page cache holds the data, the read usually completes before this returns (see
    /// <see cref="AioFileOptions.InlineCachedReads"/>). When it holds only the start of the range, the engine reads the
    /// rest; should that fail or be cancelled, the call returns the bytes it has, as <c>pread</c> would, and the next
    /// read at the following offset reports the error.</remarks>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken = default) =>
        Transfer(AioOperationKind.Read, buffer, offset, cancellationToken);

    /// <summary>Writes <paramref name="buffer"/> at <paramref name="offset"/>; returns the bytes written, which may be
    /// fewer than given (use <see cref="WriteAllAsync"/> to write them all).</summary>
    public ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, long offset, CancellationToken cancellationToken = default) =>
        Transfer(AioOperationKind.Write, System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer), offset, cancellationToken);

    /// <summary>Reads into several buffers, in order, from <paramref name="offset"/> (<c>preadv</c>); returns the bytes read.</summary>
    public ValueTask<int> ReadAsync(IReadOnlyList<Memory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        return TransferVectored(AioOperationKind.Read, buffers, static b => b, offset, cancellationToken);
    }

    /// <summary>Writes several buffers, in order, at <paramref name="offset"/> (<c>pwritev</c>); returns the bytes written.</summary>
    public ValueTask<int> WriteAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        return TransferVectored(AioOperationKind.Write, buffers, static b => System.Runtime.InteropServices.MemoryMarshal.AsMemory(b), offset, cancellationToken);
    }

    /// <summary>Fills <paramref name="buffer"/> completely from <paramref name="offset"/>, looping over short reads.</summary>
    /// <exception cref="EndOfStreamException">The file ends before the buffer is full.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadExactlyAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int read = await ReadAsync(buffer, offset, cancellationToken).ConfigureAwait(false);
            // A direct read is short only at the end of the file; the rest could not even be asked for (misaligned).
            if (read == 0 || (IsDirect && read < buffer.Length))
            {
                throw new EndOfStreamException(
                    $"The file ended at {offset + read} bytes, before the {buffer.Length - read} bytes still wanted: '{Path}'.");
            }
            buffer = buffer[read..];
            offset += read;
        }
    }

    /// <summary>Writes all of <paramref name="buffer"/> at <paramref name="offset"/>, looping over short writes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAllAsync(ReadOnlyMemory<byte> buffer, long offset, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int written = await WriteAsync(buffer, offset, cancellationToken).ConfigureAwait(false);
            if (written == 0)
            {
                throw new IOException($"The write at offset {offset} made no progress: '{Path}'.");
            }
            buffer = buffer[written..];
            offset += written;
        }
    }

    /// <summary>Makes the file durable (<c>fsync</c>; <c>fdatasync</c> when <paramref name="dataOnly"/>) after every
    /// operation started on this file before it has completed.</summary>
    public ValueTask FlushAsync(bool dataOnly = false, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        long started = StartOperation();
        AioFileOperation operation = _pool.Rent();
        try
        {
            operation.Prepare(AioOperationKind.Flush, this, 0, default, dataOnly);
        }
        catch
        {
            AbandonOperation(operation);
            throw;
        }
        Submit(operation, started, cancellationToken);
        return new ValueTask(operation, operation.Version);
    }

    private ValueTask<int> Transfer(AioOperationKind kind, Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (IsDirect)
        {
            DirectIoRule.CheckOffset(offset, _alignment, nameof(offset));
            DirectIoRule.CheckLength(buffer.Length, _alignment.LengthAlignment, nameof(buffer));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        if (buffer.IsEmpty)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return new ValueTask<int>(0);
        }

        int cached = 0;
        long started;
        if (kind == AioOperationKind.Read && _cachedReads is { } cache && cache.ShouldTry(buffer.Length))
        {
            // A synchronous call on this thread, holding its own handle reference: not counted in flight (Dispose
            // waits for the asynchronous operations), but refused after Dispose like any other.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            started = FileAioMetrics.Started();
            try
            {
                cached = cache.TryRead(Handle, buffer.Span, offset);
            }
            catch
            {
                FileAioMetrics.Refused(); // the handle was closed under the file
                throw;
            }
            if (cached == buffer.Length)
            {
                FileAioMetrics.FinishedFromCache(started, cached);
                return new ValueTask<int>(cached);
            }
            EnterOperationOrRefuse(); // the engine reads the rest, or all of it on a miss
        }
        else
        {
            started = StartOperation();
        }

        AioFileOperation operation = _pool.Rent();
        try
        {
            // After a partial cache hit the engine reads only the rest (a read of buffered data, never O_DIRECT).
            operation.Prepare(kind, this, offset + cached, buffer[cached..], dataOnly: false, cachedPrefix: cached);
            CheckPinnedAddresses(operation);
        }
        catch
        {
            AbandonOperation(operation);
            throw;
        }
        Submit(operation, started, cancellationToken);
        return new ValueTask<int>(operation, operation.Version);
    }

    private ValueTask<int> TransferVectored<TMemory>(AioOperationKind kind, IReadOnlyList<TMemory> buffers,
        Func<TMemory, Memory<byte>> asMemory, long offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int count = buffers.Count;
        if (count is 0 or > Interop.LinuxConstants.IOV_MAX)
        {
            ThrowHelper.ThrowArgumentException($"A vectored transfer takes 1 to {Interop.LinuxConstants.IOV_MAX} buffers; {count} were given.", nameof(buffers));
        }
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            int length = asMemory(buffers[i]).Length;
            total += length;
            if (length == 0)
            {
                ThrowHelper.ThrowArgumentException("A vectored transfer needs non-empty buffers.", nameof(buffers));
            }
            if (IsDirect)
            {
                DirectIoRule.CheckLength(length, _alignment.LengthAlignment, nameof(buffers));
            }
        }
        if (IsDirect)
        {
            DirectIoRule.CheckOffset(offset, _alignment, nameof(offset));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        long started = StartOperation();
        AioFileOperation operation = _pool.Rent();
        try
        {
            Memory<byte>[] segments = operation.RentSegments(count);
            for (int i = 0; i < count; i++)
            {
                segments[i] = asMemory(buffers[i]);
            }
            operation.PrepareVectored(kind, this, offset, count);
            CheckPinnedAddresses(operation);
        }
        catch
        {
            AbandonOperation(operation);
            throw;
        }
        if (kind == AioOperationKind.Read && _cachedReads is { } cache && cache.ShouldTry(total)
            && TryReadVectoredFromCache(cache, operation, total) is int read)
        {
            operation.Abandon(); // the pins and the handle reference it took are released; nothing reached an engine
            FileAioMetrics.FinishedFromCache(started, read);
            OperationEnded();
            return new ValueTask<int>(read);
        }
        Submit(operation, started, cancellationToken);
        return new ValueTask<int>(operation, operation.Version);
    }

    /// <summary>The page-cache fast path for a prepared (pinned) vectored read: the bytes if the cache held all of
    /// them, else null (a partial hit is read again, whole, by the engine).</summary>
    private static unsafe int? TryReadVectoredFromCache(PageCacheReads cache, AioFileOperation operation, long total)
    {
        long read = cache.TryRead(operation.Fd, operation.SegmentIovecs(), operation.SegmentCount, operation.Offset, total);
        return read == total ? (int)read : null;
    }

    private unsafe void CheckPinnedAddresses(AioFileOperation operation)
    {
        if (IsDirect)
        {
            for (int i = 0; i < operation.SegmentCount; i++)
            {
                DirectIoRule.CheckAddress(operation.SegmentPointer(i), _alignment.MemoryAlignment, "buffer");
            }
        }
    }

    /// <summary>Counts an operation in flight (so Dispose waits for it), refusing after Dispose; returns its start
    /// timestamp for the metrics.</summary>
    private long StartOperation()
    {
        EnterOperation();
        return FileAioMetrics.Started();
    }

    /// <summary><see cref="EnterOperation"/> for an operation whose metrics have started already.</summary>
    private void EnterOperationOrRefuse()
    {
        try
        {
            EnterOperation();
        }
        catch
        {
            FileAioMetrics.Refused();
            throw;
        }
    }

    private void EnterOperation()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _disposed) != 0)
        {
            OperationEnded();
            ObjectDisposedException.ThrowIf(true, this);
        }
    }

    /// <summary>Undoes <see cref="StartOperation"/> for an operation refused before it ran (it threw).</summary>
    private void RefuseOperation()
    {
        FileAioMetrics.Refused();
        OperationEnded();
    }

    private void AbandonOperation(AioFileOperation operation)
    {
        operation.Abandon();
        RefuseOperation();
    }

    private void EndOperation(long started, long result)
    {
        FileAioMetrics.Finished(started, result);
        OperationEnded();
    }

    private void Submit(AioFileOperation operation, long started, CancellationToken cancellationToken)
    {
        operation.StartTimestamp = started;
        operation.RegisterCancellation(_requestCancel, cancellationToken);
        _worker.Enqueue(operation);
    }

    /// <summary>Called by the operation when it completes, before its result is published.</summary>
    internal void OnOperationFinished(AioFileOperation operation, long result) => EndOperation(operation.StartTimestamp, result);

    private void OperationEnded()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _disposed) != 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Disposal.

    /// <summary>Refuses new operations, waits for those in flight, then closes the file.</summary>
    public void Dispose()
    {
        if (BeginDispose() is Task drained)
        {
            drained.GetAwaiter().GetResult();
        }
        Handle.Dispose();
    }

    /// <summary>Refuses new operations, waits (asynchronously) for those in flight, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (BeginDispose() is Task drained)
        {
            await drained.ConfigureAwait(false);
        }
        Handle.Dispose();
    }

    /// <summary>Marks the file disposed; returns a task that completes when no operation is in flight, or null.</summary>
    private Task? BeginDispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return _drained?.Task;
        }
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (Volatile.Read(ref _inFlight) == 0)
        {
            drained.TrySetResult();
        }
        return drained.Task;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Static helpers.

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
        OpenHandleCore(path, mode, access, FileShare.Read, 0, direct);

    private static SafeFileHandle OpenHandleCore(string path, FileMode mode, FileAccess access, FileShare share,
        long preallocationSize, bool direct)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle = File.OpenHandle(path, mode, access, share, FileOptions.None, preallocationSize);
        if (!direct)
        {
            return handle;
        }
        try
        {
            DirectIo.Enable(handle, path);
            FileIoInfo.Remember(handle, new FileIoInfo(true, FileAlignment.Get(handle)));
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
    /// may fail it just when it fails reads), because io_uring misreports a FUSE read that the file system fails partway
    /// (docs/engines.md, IoUring, "FUSE"); <see cref="AioEngineKind.Auto"/> otherwise. <see cref="Open"/> applies it
    /// under Auto; a program that runs its own <see cref="AioContext"/> can ask here which engine to create it with.
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
        return FileAlignment.Get(file);
    }
}
