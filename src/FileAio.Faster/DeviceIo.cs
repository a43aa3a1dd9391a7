using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;
using FASTER.core;

namespace FileAio.Faster;

/// <summary>
/// One FASTER read or write in flight on a <see cref="FileAioDevice"/>, pooled and reused, so that an I/O in steady
/// state allocates nothing.
/// </summary>
/// <remarks>
/// <para>1. Why a loop. The I/O goes through <see cref="AioFile"/>, whose <see cref="ValueTask{TResult}"/> must be
/// awaited to learn its result. Hooking a delegate onto it would make FileAio queue that delegate to the thread pool
/// in a small wrapper object, one per completion; the runtime queues an async method's state machine box itself,
/// without a wrapper. So each DeviceIo runs one async method for its whole life (<see cref="RunAsync"/>): its box is
/// created once, at the first await, and every later await of every later I/O reuses it.</para>
/// <para>2. Life. Rented by the device, which counts it in flight; <see cref="Start"/> describes the I/O and completes
/// <c>_start</c>, which runs the loop on the caller's thread up to the first await of the file — so the I/O reaches
/// FileAio before <c>ReadAsync</c>/<c>WriteAsync</c> returns. The loop transfers the whole length (writes loop over short
/// transfers: a write cut short by ENOSPC must reach FASTER as an error, not as a success), runs FASTER's callback, and
/// gives itself back to the device, which pools it and stops counting it. Only then does the loop await the next
/// <c>_start</c>; a renter that completes it in between makes that await finish at once.</para>
/// <para>3. Where callbacks run: on the thread pool, never on the thread that issued the I/O while it is still inside
/// <c>ReadAsync</c>/<c>WriteAsync</c> — except a successful read whose callback is on the short list of
/// <see cref="EngineThreadCallbacks"/> (<see cref="FileAioDeviceOptions.InlineReadCallbacks"/>), which runs on the engine
/// thread that completed it, saving a thread wakeup per read. For that the segment files resume awaiters on their engine
/// thread (FileAio's inline mode), so every other I/O leaves that thread with a hop to the pool (<see cref="PoolHop"/>)
/// right after each await of the file, before running anything of its own: its follow-up transfers, reopening a reset
/// file, its callback — the same one hop per await that FileAio makes when not inline. A read the page cache serves
/// completes synchronously (FileAio's fast path), on FASTER's thread inside <c>ReadAsync</c>; its callback is then
/// queued to the pool whatever its kind, since FASTER issues I/O while holding its epoch and from inside callbacks, and
/// a callback run inline would re-enter it.</para>
/// <para>4. Errors reach FASTER as codes through the callback (<see cref="DeviceErrors"/>), never as exceptions on
/// FileAio's threads or FASTER's. A callback that itself throws is FASTER's failure: it goes to
/// <see cref="CallbackFailures"/> (thrown unhandled on a thread-pool thread, ending the process), after this I/O is
/// accounted for.</para>
/// <para>5. Context. The loop is shared by every caller that rents it, one after another, so it runs under the default
/// ExecutionContext, never a caller's: an async method's box takes the context current at each await, and the loop
/// awaits on the caller's thread inside <see cref="Start"/> and after each callback, so both stretches run under the
/// default one (<see cref="DefaultContext"/>). Callbacks see no caller's AsyncLocals, as with a completion port.</para>
/// <para>6. Write-through without O_DIRECT is a write and then an fdatasync of its file (SegmentFiles.SyncsAfterWrites
/// says why not O_SYNC). A failed fdatasync (EIO, ENOSPC) fails the write's callback: FASTER must not count it as
/// persisted.</para>
/// </remarks>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "NativeRegion is a MemoryManager over FASTER's memory; its Dispose frees nothing.")]
internal sealed partial class DeviceIo : IValueTaskSource, IThreadPoolWorkItem
{
    /// <summary>The I/O whose <see cref="Start"/> is running on this thread (remark 3).</summary>
    [ThreadStatic]
    private static DeviceIo? t_starting;

    private readonly FileAioDevice _device;
    private readonly NativeRegion _buffer = new();

    // Completed by Start; continuations run synchronously, so the loop issues the I/O on the caller's thread.
    private ManualResetValueTaskSourceCore<bool> _start;

    // ---- The I/O: written by Start while no loop iteration runs, read by the loop after it.
    private int _segment;
    private long _offset;
    private int _length;
    private bool _write;
    private bool _refused;              // a transfer FileAio could not be asked for: it fails with EINVAL
    private bool _callbackMayRunInline; // its callback may run on the engine thread, if the read succeeds (remark 3)
    private DeviceIOCompletionCallback? _callback;
    private object? _context;

    private Action? _hopContinuation;   // the loop's continuation while it hops to the pool (remark 3)

    private DeviceIo(FileAioDevice device) => _device = device;

    /// <summary>A new idle I/O whose loop waits for its first <see cref="Start"/>.</summary>
    public static DeviceIo Create(FileAioDevice device)
    {
        var io = new DeviceIo(device);
        using (DefaultContext.Enter()) // the loop outlives this caller (remark 5)
        {
            _ = io.RunAsync();
        }
        return io;
    }

    /// <summary>Issues the I/O; returns once FileAio has it (or it failed at once, its callback then queued). A length
    /// beyond <see cref="int"/> or an offset beyond <see cref="long"/> fails with EINVAL, no transfer attempted.</summary>
    public void Start(int segment, ulong offset, IntPtr buffer, uint length, bool write, DeviceIOCompletionCallback callback, object? context)
    {
        // FASTER's transfers are at most a page; Memory<byte> and file offsets cannot say more than these.
        _refused = length > int.MaxValue || offset > long.MaxValue;
        _segment = segment;
        _offset = _refused ? 0 : (long)offset;
        _length = _refused ? 0 : (int)length;
        _write = write;
        _callback = callback;
        _context = context;
        _callbackMayRunInline = !write && _device.ResumesOnEngineThread && EngineThreadCallbacks.RunsInline(context);
        _buffer.Set(buffer, _length);

        DeviceIo? outer = t_starting;
        t_starting = this;
        try
        {
            using (DefaultContext.Enter()) // not under this caller's context: the loop serves later callers too (remark 5)
            {
                _start.SetResult(true); // runs the loop here until its first await that does not complete at once
            }
        }
        finally
        {
            t_starting = outer;
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            await new ValueTask(this, _start.Version).ConfigureAwait(false);

            uint error = _refused ? DeviceErrors.EINVAL : 0;
            long done = 0;
            try
            {
                // A read of a segment that has no file reads nothing, as past the end of a file, and creates none.
                AioFile? file = _refused ? null : _device.SegmentFile(_segment, _write);
                while (file is not null && done < _length)
                {
                    Memory<byte> rest = _buffer.Memory[(int)done..];
                    int n;
                    try
                    {
                        n = _write
                            ? await file.WriteAsync(rest, _offset + done).ConfigureAwait(false)
                            : await file.ReadAsync(rest, _offset + done).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException && _device.WasReset(_segment, file))
                    {
                        // FASTER's Reset closed the file under this I/O (it means to be called with none in flight). The
                        // segment lives on: do what the next I/O does, reopen it, and carry on from what was done. Not on
                        // an engine thread: opening a file is a system call that may wait for the disk.
                        if (OnForeignThread)
                        {
                            await new PoolHop(this);
                        }
                        file = _device.SegmentFile(_segment, _write);
                        continue;
                    }
                    if (OnForeignThread && !_callbackMayRunInline)
                    {
                        await new PoolHop(this); // off the engine thread before anything else (remark 3)
                    }
                    if (n == 0)
                    {
                        // A read at the end of the file; a write that made no progress is a failure FASTER must see.
                        error = _write ? DeviceErrors.EIO : 0;
                        break;
                    }
                    done += n;
                    if (!_write && file.IsDirect && n % _device.SectorSize != 0)
                    {
                        break; // a direct read is short only at the end of the file
                    }
                }
                while (file is not null && _write && error == 0 && _device.SyncsAfterWrites)
                {
                    // Write-through on a buffered device: the callback says "durable" only once the data is (remark 6).
                    // Awaited here, not in a helper method, so that it reuses this loop's box and allocates nothing.
                    try
                    {
                        await file.FlushAsync(dataOnly: true).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException && _device.WasReset(_segment, file))
                    {
                        // Reset closed the file under the flush; the written pages stay cached across the reopen, so the
                        // reopened file's fdatasync covers them.
                        if (OnForeignThread)
                        {
                            await new PoolHop(this);
                        }
                        file = _device.SegmentFile(_segment, _write);
                    }
                }
            }
            catch (Exception e)
            {
                error = DeviceErrors.Of(e);
            }

            if (t_starting == this || (OnForeignThread && !(_callbackMayRunInline && error == 0)))
            {
                // Completed inside Start: not on the issuing thread. Or on the engine thread with a callback that may not
                // run there, or with a failure, which FASTER logs through the store's ILogger (remark 3).
                await new PoolHop(this);
            }
            Complete(error, (uint)done);
        }
    }

    /// <summary>Whether the loop runs on a thread that is not the pool's, outside <see cref="Start"/>: after an await of a
    /// file, that is the engine thread that completed it (FileAio's inline mode, remark 3).</summary>
    private bool OnForeignThread => !Thread.CurrentThread.IsThreadPoolThread && t_starting != this;

    private void Complete(uint error, uint bytes)
    {
        DeviceIOCompletionCallback callback = _callback!;
        object? context = _context;
        _callback = null;
        _context = null;
        _buffer.Clear(); // FileAio has let go of the memory; FASTER may free or reuse it from the callback on

        ExceptionDispatchInfo? thrown = null;
        FileAioDevice? outer = FileAioDevice.t_inIoCallbackOf;
        FileAioDevice.t_inIoCallbackOf = _device;
        try
        {
            callback(error, bytes, context);
        }
        catch (Exception e)
        {
            thrown = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            FileAioDevice.t_inIoCallbackOf = outer;
            DefaultContext.Reinstate(); // an AsyncLocal the callback set is not the next I/O's (remark 5)
            _device.IoEnded(this); // pooled from here on: a renter may Start it before the loop awaits again
        }
        if (thrown is not null)
        {
            CallbackFailures.Raise(thrown); // remark 4
        }
    }

    // ---- IValueTaskSource: the loop's wait for Start. One consumer (the loop), so the result is read once.

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _start.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _start.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        _start.GetResult(token);
        _start.Reset(); // ready for the next Start, which can come only after this I/O is given back
    }

    // ---- IThreadPoolWorkItem: the hop of remark 3.

    void IThreadPoolWorkItem.Execute()
    {
        Action continuation = _hopContinuation!;
        _hopContinuation = null;
        continuation();
    }
}
