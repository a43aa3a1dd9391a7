using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FileAio.Async;
using FileAio.Engines;
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
/// on the thread pool, never on an engine thread — except for code running on the file's own <see cref="AioLoop"/>,
/// where they run inline on the loop thread, and for files opened with <see cref="AioFileOptions.InlineCompletions"/>,
/// whose continuations run inline on the engine thread that completes them. In steady state an operation allocates nothing (pooled value-task
/// sources, no closures, no boxing; cancellation registrations aside).</para>
/// <para>A returned <see cref="ValueTask"/> is consumed once: reading its result before it completes, or a second
/// time, throws <see cref="InvalidOperationException"/> and changes nothing.</para>
/// <para>Buffers are pinned, and the handle kept open, until the kernel is done with the operation; a cancelled
/// operation ends with <see cref="OperationCanceledException"/> only once the kernel will not touch its buffer.</para>
/// <para>Errors are <see cref="IOException"/>s whose message carries the errno and the path and whose
/// <see cref="Exception.HResult"/> is the errno.</para>
/// </remarks>
public sealed partial class AioFile : IDisposable, IAsyncDisposable
{
    private readonly AsyncFile _file;                  // what the engine loop and the operations share
    private readonly OperationPool _pool;
    private readonly DirectIoAlignment _alignment;     // meaningful when IsDirect
    private readonly PageCacheReads? _cachedReads;     // the page-cache fast path, when on

    private AioFile(SafeFileHandle handle, string path, AioFileOptions options, AioEngineHost host)
    {
        FileFacts facts = FileFacts.Of(handle); // remembered by OpenHandleCore for a direct file: no statx again
        Handle = handle;
        IsDirect = options.Direct;
        Engine = host.Engine;
        _alignment = facts.Alignment;
        _cachedReads = options.InlineCachedReads && !options.Direct && OperatingSystem.IsLinux() ? new PageCacheReads() : null;
        _file = new AsyncFile(handle, path, facts.Traits, host.AssignLoop(), options.InlineCompletions);
        _pool = host.Pool;
    }

    /// <summary>The operating-system handle. Do not close it; dispose the <see cref="AioFile"/>.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The full path the file was opened with (as given in error messages).</summary>
    public string Path => _file.Path;

    /// <summary>Whether the file bypasses the page cache.</summary>
    public bool IsDirect { get; }

    /// <summary>The engine that serves this file.</summary>
    public AioEngineKind Engine { get; }

    /// <summary>Under <see cref="AioEngineKind.Auto"/>, the engines Auto prefers to <see cref="Engine"/> that it did
    /// not use for this file, each with <see cref="AioLimits.UnsupportedReason"/> saying why: engines that cannot run
    /// here (<see cref="AioLimits.IsSupported"/> false), and engines that run but were passed over for this file (a
    /// file on FUSE; a buffered file where Auto's engine is Linux AIO). Empty when an engine or a host was named and
    /// used, or Auto's first choice serves the file.</summary>
    public IReadOnlyList<AioLimits> PassedOverEngines { get; private init; } = [];

    /// <summary>Operations started on this file that have not completed yet: counted from the call that starts one until
    /// its result is published, which is before its continuation is queued (so a continuation waiting for a thread-pool
    /// thread is no longer counted). A read the page-cache fast path completes within the call is not counted once the
    /// call returns.
    /// A snapshot, for pacing and diagnostics; other threads change it at any time.</summary>
    public int OperationsInFlight => _file.InFlight;

    /// <summary>The group commit of this file's flushes (tests and diagnostics read its counters).</summary>
    internal FlushGroup Flushes => _file.Flushes;

    /// <summary>Gathered writes formed of this file's writes so far (tests).</summary>
    internal long GatheredWriteCount => _file.GatheredWriteCount;

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
        Transfer(OperationKind.Read, buffer, offset, cancellationToken);

    /// <summary>Writes <paramref name="buffer"/> at <paramref name="offset"/>; returns the bytes written, which may be
    /// fewer than given (use <see cref="WriteAllAsync"/> to write them all).</summary>
    public ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, long offset, CancellationToken cancellationToken = default) =>
        Transfer(OperationKind.Write, MemoryMarshal.AsMemory(buffer), offset, cancellationToken);

    /// <summary>Reads into several buffers, in order, from <paramref name="offset"/> (<c>preadv</c>); returns the bytes read.</summary>
    public ValueTask<int> ReadAsync(IReadOnlyList<Memory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        return TransferVectored(OperationKind.Read, buffers, static b => b, offset, cancellationToken);
    }

    /// <summary>Writes several buffers, in order, at <paramref name="offset"/> (<c>pwritev</c>); returns the bytes written.</summary>
    public ValueTask<int> WriteAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        return TransferVectored(OperationKind.Write, buffers, static b => MemoryMarshal.AsMemory(b), offset, cancellationToken);
    }

    /// <summary>Fills <paramref name="buffer"/> completely from <paramref name="offset"/>, looping over short reads.</summary>
    /// <exception cref="EndOfStreamException">The file ends before the buffer is full. The message says how many of the
    /// bytes asked for were read, from which offset, and how long the file is; the bytes read are in the buffer.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadExactlyAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken = default)
    {
        int wanted = buffer.Length;
        int done = 0;
        while (done < wanted)
        {
            int read = await ReadAsync(buffer[done..], offset + done, cancellationToken).ConfigureAwait(false);
            done += read;
            // A direct read is short only at the end of the file; the rest could not even be asked for (misaligned).
            if (read == 0 || (IsDirect && done < wanted))
            {
                throw EndOfFile(offset, wanted, done);
            }
        }
    }

    /// <summary>"End of file after 50 of the 100 bytes asked for at offset 4950 (the file is 5000 bytes)": the read's
    /// own numbers and the file's length now, which is what tells a caller whether the offset or the file was wrong.</summary>
    private EndOfStreamException EndOfFile(long offset, int wanted, int done)
    {
        string length;
        try
        {
            length = $" (the file is {RandomAccess.GetLength(Handle)} bytes)";
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            length = ""; // disposed meanwhile: the read's own numbers still say what happened
        }
        return new EndOfStreamException(
            $"End of file after {done} of the {wanted} bytes asked for at offset {offset}{length}: '{Path}'.");
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
    /// write started on this file before it has completed. It waits for this file's writes only.</summary>
    /// <remarks>Flushes of one file are grouped: at most a few fsyncs of the file are in the kernel at a time
    /// (<see cref="FlushGroup.MaxInFlight"/>), and the flushes called while they all run share the next one (an fsync if
    /// any of them asked for one, else an fdatasync).
    /// A flush is only ever answered by an fsync issued after it was called, so it covers every write completed
    /// before the call. Each caller keeps its own cancellation; an error of the shared fsync reaches each of them.</remarks>
    public ValueTask FlushAsync(bool dataOnly = false, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        EnterOrThrow();
        AsyncOperation operation = _pool.Rent();
        operation.Io.SetFlush(Handle, _file.Traits, dataOnly);
        Submit(operation, FileAioMetrics.Started(), cachedPrefix: 0, cancellationToken);
        return new ValueTask(operation, operation.Version);
    }

    private ValueTask<int> Transfer(OperationKind kind, Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (IsDirect)
        {
            DirectIoRule.CheckOffset(offset, _alignment.Offset, nameof(offset));
            DirectIoRule.CheckLength(buffer.Length, _alignment.Offset, nameof(buffer));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        if (buffer.IsEmpty)
        {
            ObjectDisposedException.ThrowIf(_file.IsClosing, this);
            return new ValueTask<int>(0);
        }

        int cached = 0;
        long started = FileAioMetrics.Started();
        if (kind == OperationKind.Read && _cachedReads is { } cache && MayReadCacheHere && cache.ShouldTry(buffer.Length))
        {
            // A synchronous call on this thread, holding its own handle reference: not counted in flight (Dispose
            // waits for the asynchronous operations), but refused after Dispose like any other.
            ObjectDisposedException.ThrowIf(_file.IsClosing, this);
            cached = cache.TryRead(Handle, buffer.Span, offset);
            if (cached == buffer.Length)
            {
                FileAioMetrics.CachedRead(started, cached);
                return new ValueTask<int>(cached);
            }
        }

        EnterOrThrow(); // the engine reads the rest, or all of it on a miss
        AsyncOperation operation = _pool.Rent();
        try
        {
            // After a partial cache hit the engine reads only the rest (a read of buffered data, never O_DIRECT).
            operation.Io.SetTransfer(kind, Handle, _file.Traits, offset + cached, buffer[cached..], MemoryAlignment);
            operation.Io.Pin();
        }
        catch
        {
            Abandon(operation);
            throw;
        }
        Submit(operation, started, cached, cancellationToken);
        return new ValueTask<int>(operation, operation.Version);
    }

    private ValueTask<int> TransferVectored<TMemory>(OperationKind kind, IReadOnlyList<TMemory> buffers,
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
                DirectIoRule.CheckLength(length, _alignment.Offset, nameof(buffers));
            }
        }
        if (IsDirect)
        {
            DirectIoRule.CheckOffset(offset, _alignment.Offset, nameof(offset));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        EnterOrThrow();
        long started = FileAioMetrics.Started();
        AsyncOperation operation = _pool.Rent();
        try
        {
            Memory<byte>[] segments = operation.Io.RentSegments(count);
            for (int i = 0; i < count; i++)
            {
                segments[i] = asMemory(buffers[i]);
            }
            operation.Io.SetVectored(kind, Handle, _file.Traits, offset, count, MemoryAlignment);
            operation.Io.Pin();
        }
        catch
        {
            Abandon(operation);
            throw;
        }
        if (kind == OperationKind.Read && _cachedReads is { } cache && MayReadCacheHere && cache.ShouldTry(total)
            && TryReadVectoredFromCache(cache, operation.Io, total) is int read)
        {
            operation.Abandon(); // the pins and the handle reference it took are released; nothing reached an engine
            _file.OperationEnded();
            FileAioMetrics.CachedRead(started, read);
            return new ValueTask<int>(read);
        }
        Submit(operation, started, cachedPrefix: 0, cancellationToken);
        return new ValueTask<int>(operation, operation.Version);
    }

    /// <summary>
    /// Whether this thread may serve a read from the page cache itself (<see cref="AioFileOptions.InlineCachedReads"/>).
    /// Not in an inline continuation (a flow whose reads all hit would keep the engine thread from its other work), and
    /// not in loop code on the file's own io_uring thread: there the read goes into the ring with the turn's others and
    /// one <c>io_uring_enter</c> serves them all from the cache, cheaper than a <c>preadv2</c> each (measured: +14%
    /// reads/s in the loop mode, docs/async.md). The other engines would send it to a worker: they keep the fast path.
    /// </summary>
    private bool MayReadCacheHere =>
        !EngineLoop.InInlineCompletion && !(Engine == AioEngineKind.IoUring && _file.Loop.IsLoopThread);

    /// <summary>The page-cache fast path for a prepared (pinned) vectored read: the bytes if the cache held all of
    /// them, else null (a partial hit is read again, whole, by the engine).</summary>
    private static unsafe int? TryReadVectoredFromCache(PageCacheReads cache, IoOperation operation, long total)
    {
        long read = cache.TryRead(operation.Fd, operation.Iovecs, operation.SegmentCount, operation.Offset, total);
        return read == total ? (int)read : null;
    }

    /// <summary>The buffer address rule the engine checks when pinning: 0 unless the file is direct.</summary>
    private int MemoryAlignment => IsDirect ? _alignment.Memory : 0;

    /// <summary>Counts an operation in flight (so closing cancels and waits for it), refusing after Dispose.</summary>
    private void EnterOrThrow()
    {
        if (!_file.TryEnter())
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
    }

    /// <summary>Undoes <see cref="EnterOrThrow"/> and the describing of an operation refused before it ran.</summary>
    private void Abandon(AsyncOperation operation)
    {
        operation.Abandon();
        _file.OperationEnded();
    }

    private void Submit(AsyncOperation operation, long started, int cachedPrefix, CancellationToken cancellationToken)
    {
        operation.Begin(_file, cachedPrefix, started, cancellationToken);
        _file.Loop.Submit(operation);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Disposal.

    /// <summary>Refuses new operations, cancels those in flight, waits until the kernel has let go of every buffer,
    /// then closes the file. It returns even when an operation could never complete on its own (a read from an empty
    /// FIFO): that one ends with <see cref="OperationCanceledException"/>. A disk transfer already under way cannot be
    /// stopped; Dispose waits for it.</summary>
    /// <exception cref="InvalidOperationException">While operations are in flight, called on the file's own loop
    /// (<see cref="AioLoop"/>), or in a continuation running inline on any engine thread
    /// (<see cref="AioFileOptions.InlineCompletions"/>): waiting there would keep that thread from completing operations
    /// — the file's own, or those of the file that another engine thread, itself waiting, would need. Use
    /// <see cref="DisposeAsync"/> there to wait for the end. The file is closing all the same: its operations are
    /// cancelled, and its handle is closed once they have ended, whether or not <see cref="DisposeAsync"/> is called.</exception>
    public void Dispose()
    {
        Task drained = _file.BeginClose();
        if (!drained.IsCompleted)
        {
            if (EngineLoop.InInlineCompletion)
            {
                CloseHandleWhenDrained(drained);
                ThrowHelper.ThrowInvalidOperation("AioFile.Dispose in a continuation running inline on an engine thread would block that thread until the file's operations end: use DisposeAsync there.");
            }
            if (_file.Loop.IsLoopThread)
            {
                CloseHandleWhenDrained(drained);
                ThrowHelper.ThrowInvalidOperation("AioFile.Dispose on the file's own loop would wait for the loop from the loop: use DisposeAsync there.");
            }
        }
        drained.GetAwaiter().GetResult();
        Handle.Dispose();
    }

    /// <summary>A refused <see cref="Dispose"/> has begun the close but cannot wait for it: the handle is closed when the
    /// last operation ends, as <see cref="DisposeAsync"/> would, so that a caller who does not go on to call it (a
    /// <c>using</c> whose exception ends the flow) leaves no descriptor open until the finalizer. On the thread pool
    /// (<c>drained</c> runs its continuations asynchronously; the default scheduler, not the loop's), after the kernel
    /// has let go of the buffers; a later <see cref="DisposeAsync"/> closing it again does nothing.</summary>
    private void CloseHandleWhenDrained(Task drained) =>
        drained.ContinueWith(static (_, handle) => ((SafeFileHandle)handle!).Dispose(), Handle,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>As <see cref="Dispose"/>, waiting asynchronously.</summary>
    public async ValueTask DisposeAsync()
    {
        await _file.BeginClose().ConfigureAwait(false);
        Handle.Dispose();
    }
}
