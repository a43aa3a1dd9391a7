using System.Collections.Concurrent;
using FASTER.core;
using FileAio;

namespace FileAio.Faster;

/// <summary>
/// A FASTER storage device on FileAio: segment files read and written through <see cref="AioFile"/> — io_uring where it
/// works, with real O_DIRECT by default — in place of FASTER's FileStream-based <c>ManagedLocalStorageDevice</c>.
/// Replace <c>Devices.CreateLogDevice(path, …)</c> with <c>new FileAioDevice(path, …)</c>: the leading parameters are
/// the same.
/// </summary>
/// <remarks>
/// <para>Files: one per segment, <c>&lt;filename&gt;.&lt;segment&gt;</c> (or <c>&lt;filename&gt;</c> itself when FASTER
/// omits the segment id), opened on first use and shared with other opens for reading, writing and deleting.</para>
/// <para>Threading: every member may be called from any thread. <c>ReadAsync</c>/<c>WriteAsync</c> never wait for other
/// I/O; their callbacks run on the thread pool, never inside the call that issued them — except the callbacks of FASTER's
/// own record reads, which only hand the record over and run on the FileAio engine thread that completed the read
/// (<see cref="FileAioDeviceOptions.InlineReadCallbacks"/>). Callbacks may issue more I/O, and run under the default
/// ExecutionContext. Errors reach the callback as an errno (EIO,
/// ENOSPC …), never as an exception. A callback that throws ends the process (docs/faster.md).</para>
/// <para>Cost: an I/O in steady state allocates nothing (pooled per-I/O state, see docs/faster.md).</para>
/// </remarks>
public sealed class FileAioDevice : StorageDeviceBase
{
    /// <summary>Idle I/O states kept for reuse; more are left to the GC. FileAio keeps 1024 operations per engine
    /// thread in the kernel; a FASTER device rarely has more than a few hundred in flight.</summary>
    private const int MaxRetained = 1024;

    /// <summary>The device whose I/O completion callback this thread is running (so Dispose from a callback does not wait
    /// for itself).</summary>
    [ThreadStatic]
    internal static FileAioDevice? t_inIoCallbackOf;

    /// <summary>The device whose segment removal callback this thread is running (likewise).</summary>
    [ThreadStatic]
    internal static FileAioDevice? t_inRemovalCallbackOf;

    private readonly FileAioDeviceOptions _options;
    private readonly bool _preallocateFile;
    private readonly bool _deleteOnClose;
    private readonly SegmentFiles _segments;
    private readonly ConcurrentQueue<DeviceIo> _idle = new();
    private int _inFlight;       // I/Os started and not yet through their callback
    private int _removals;       // segment removals not yet through their callback
    private int _disposed;

    /// <summary>Creates the device; no file is opened until the first I/O.</summary>
    /// <param name="filename">The path and base name of the segment files (<c>&lt;filename&gt;.&lt;segment&gt;</c>). Its
    /// directory is created if missing.</param>
    /// <param name="preallocateFile">Reserve a whole segment on disk when its file is created.</param>
    /// <param name="deleteOnClose">Delete the segment files this device opened when it is disposed.</param>
    /// <param name="capacity">The most bytes the device may hold (FASTER then truncates the oldest segments), or
    /// <see cref="Devices.CAPACITY_UNSPECIFIED"/>.</param>
    /// <param name="recoverDevice">Set <c>StartSegment</c>/<c>EndSegment</c> from the segment files that exist.</param>
    /// <param name="options">Engine, direct I/O, preallocation and in-flight limit; defaults when null.</param>
    /// <exception cref="NotSupportedException">Direct I/O on a file system that refuses it, or an engine that cannot run here.</exception>
    public FileAioDevice(string filename, bool preallocateFile = false, bool deleteOnClose = false,
        long capacity = Devices.CAPACITY_UNSPECIFIED, bool recoverDevice = false, FileAioDeviceOptions? options = null)
        : base(filename, SectorSizes.For(filename, (options ?? FileAioDeviceOptions.Default).Direct), capacity)
    {
        _options = options ?? FileAioDeviceOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.InFlightLimit, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(_options.PreallocationSize, nameof(options));
        _preallocateFile = preallocateFile;
        _deleteOnClose = deleteOnClose;
        ThrottleLimit = _options.InFlightLimit;
        _segments = new SegmentFiles(SegmentPath, _options) { PreallocationSize = _options.PreallocationSize };
        if (recoverDevice)
        {
            RecoverSegments();
        }
    }

    /// <summary>The engine, direct-I/O and limit settings this device runs with.</summary>
    public FileAioDeviceOptions Options => _options;

    /// <summary>I/Os started and not yet through their completion callback.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <inheritdoc/>
    public override void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false)
    {
        base.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);
        if (_options.PreallocationSize == 0 && _preallocateFile && segmentSize > 0)
        {
            _segments.PreallocationSize = segmentSize;
        }
    }

    /// <inheritdoc/>
    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength,
        DeviceIOCompletionCallback callback, object context) =>
        Start(segmentId, sourceAddress, destinationAddress, readLength, write: false, callback, context);

    /// <inheritdoc/>
    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite,
        DeviceIOCompletionCallback callback, object context)
    {
        HandleCapacity(segmentId); // a bounded device truncates its oldest segments as a new one starts
        Start(segmentId, destinationAddress, sourceAddress, numBytesToWrite, write: true, callback, context);
    }

    private void Start(int segment, ulong offset, IntPtr buffer, uint length, bool write, DeviceIOCompletionCallback callback, object context)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Interlocked.Increment(ref _inFlight);
        DeviceIo io = _idle.TryDequeue(out DeviceIo? idle) ? idle : DeviceIo.Create(this);
        io.Start(segment, offset, buffer, length, write, callback, context);
    }

    /// <summary>The file of <paramref name="segment"/>, for a starting I/O: null for a read of a segment without one.</summary>
    /// <exception cref="ObjectDisposedException">The device was disposed, or the segment removed.</exception>
    internal AioFile? SegmentFile(int segment, bool write) => _segments.Get(segment, create: write);

    /// <summary>Whether <paramref name="file"/>, which an I/O of <paramref name="segment"/> found closed, was closed by
    /// <see cref="Reset"/> while the segment lives on (so the I/O may reopen it), rather than by a removal or Dispose.</summary>
    internal bool WasReset(int segment, AioFile file) => _segments.WasClosedByReset(segment, file);

    /// <summary>Whether a write is followed by an fdatasync before its callback (buffered write-through).</summary>
    internal bool SyncsAfterWrites => _segments.SyncsAfterWrites;

    /// <summary>Whether the segment files resume awaiters on their engine thread, so that the reads whose callbacks may
    /// run there do (<see cref="FileAioDeviceOptions.InlineReadCallbacks"/>).</summary>
    internal bool ResumesOnEngineThread => _segments.ResumeOnEngineThread;

    /// <summary>An I/O is through its callback: pool its state and stop counting it.</summary>
    internal void IoEnded(DeviceIo io)
    {
        if (_idle.Count < MaxRetained)
        {
            _idle.Enqueue(io);
        }
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>True while FileAio has more of this device's I/Os than <see cref="StorageDeviceBase.ThrottleLimit"/> not yet
    /// completed. An I/O stops counting here when FileAio completes it, before its callback is queued, as FASTER's
    /// <c>LocalStorageDevice</c> counts.</summary>
    /// <remarks>FASTER spins on this (<c>while (device.Throttle()) { device.TryComplete(); Thread.Yield(); }</c>) on the
    /// session's thread. Callbacks run on the thread pool; had an I/O counted until its callback returned, sessions on
    /// pool threads spinning here would hold the very threads the callbacks wait for, until the pool added more.
    /// Counting the I/Os the device has issued comes first: it is one read, and it is never below FileAio's count.</remarks>
    public override bool Throttle() => Volatile.Read(ref _inFlight) > ThrottleLimit && _segments.OperationsInFlight() > ThrottleLimit;

    /// <summary>Always true: completions need no driving here. FileAio's engine threads reap them and the thread pool
    /// runs the callbacks, whether or not FASTER calls this.</summary>
    public override bool TryComplete() => true;

    /// <summary>The segment size once FASTER has set one; else the length of the segment's file (FASTER reads metadata
    /// files, which have no segment size, by their length).</summary>
    public override long GetFileSize(int segment) => segmentSize > 0 ? segmentSize : _segments.Length(segment);

    /// <summary>Refuses further I/O to the segment (EBADF), then closes its file (after its I/O has left the kernel) and
    /// deletes it on the thread pool, then calls <paramref name="callback"/> there — also when the removal failed (its
    /// exception is then unhandled, after the callback, see docs/faster.md).</summary>
    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        Interlocked.Increment(ref _removals);
        AioFile? file = _segments.Detach(segment, StartSegment); // now: the I/O that follows this call is refused
        SegmentRemoval.Start(this, _segments, segment, file, callback, result);
    }

    /// <summary>A removal's callback has returned.</summary>
    internal void RemovalEnded() => Interlocked.Decrement(ref _removals);

    /// <summary>Refuses further I/O to the segment (EBADF), closes its file (after its I/O has left the kernel) and
    /// deletes it, before returning.</summary>
    public override void RemoveSegment(int segment)
    {
        // The base class waits on an event with FASTER's epoch, which a device used without Initialize does not have.
        Interlocked.Increment(ref _removals);
        try
        {
            _segments.CloseAndDelete(segment, _segments.Detach(segment, StartSegment));
        }
        finally
        {
            Interlocked.Decrement(ref _removals);
        }
    }

    /// <summary>Closes every segment file (deleting them when the device deletes on close); the next I/O reopens.</summary>
    public override void Reset() => _segments.CloseAll(_deleteOnClose, final: false);

    /// <summary>Waits for the I/O in flight to complete and its callbacks to return, and for segment removals under way and
    /// their callbacks to return, then closes the files (and deletes them when the device deletes on close). I/O issued
    /// afterwards fails through its callback with EBADF. Called from one of this device's own callbacks (an I/O's or a
    /// removal's), it does not wait for that one.</summary>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        int selfIo = t_inIoCallbackOf == this ? 1 : 0;
        int selfRemoval = t_inRemovalCallbackOf == this ? 1 : 0;
        var spin = new SpinWait();
        // Polled, not signalled: a device is disposed rarely, and usually with nothing in flight, and polling has no
        // window where a last completion's signal could be missed.
        while (Volatile.Read(ref _inFlight) > selfIo || Volatile.Read(ref _removals) > selfRemoval)
        {
            spin.SpinOnce(sleep1Threshold: 30);
        }
        _segments.CloseAll(_deleteOnClose, final: true);
        while (_idle.TryDequeue(out _))
        {
            // Dropped: each idle state's loop waits on its own source, so the GC collects both.
        }
    }

    private string SegmentPath(int segment) => GetSegmentFilename(FileName, segment);

    /// <summary>Sets the segment range from the files there: the last run of consecutive segments (earlier ones,
    /// before a gap, are leftovers of a truncation that did not finish deleting, as FASTER's own devices judge).</summary>
    private void RecoverSegments()
    {
        string full = Path.GetFullPath(FileName);
        List<int> found = SegmentFiles.Existing(Path.GetDirectoryName(full)!, Path.GetFileName(full));
        if (found.Count == 0)
        {
            return;
        }
        int start = found[^1];
        for (int i = found.Count - 1; i > 0 && found[i - 1] == found[i] - 1; i--)
        {
            start = found[i - 1];
        }
        startSegment = start;
        endSegment = found[^1];
    }
}
