using System.Runtime.ExceptionServices;
using FASTER.core;
using FileAio;

namespace FileAio.Faster;

/// <summary>
/// The rest of one <c>RemoveSegmentAsync</c> once the segment is marked removed: closes its file (waiting for its I/O to
/// leave the kernel) and deletes it, on the thread pool, then calls FASTER back there.
/// </summary>
/// <remarks>
/// <para>On the pool, not on the caller: FASTER calls <c>RemoveSegmentAsync</c> inside an epoch action, perhaps holding
/// the epoch, and closing waits. Queued without the caller's ExecutionContext, like the I/O callbacks.</para>
/// <para>The callback runs whatever happened: FASTER's truncation counts its removals' callbacks down and waits for the
/// count. The device counts the removal until the callback has returned, so Dispose never returns with one running —
/// except the one Dispose is called from. Exceptions go to <see cref="CallbackFailures"/>, after the callback.</para>
/// </remarks>
internal sealed class SegmentRemoval : IThreadPoolWorkItem
{
    private readonly FileAioDevice _device;
    private readonly SegmentFiles _segments;
    private readonly int _segment;
    private readonly AioFile? _file;
    private readonly AsyncCallback? _callback;
    private readonly IAsyncResult _result;

    private SegmentRemoval(FileAioDevice device, SegmentFiles segments, int segment, AioFile? file, AsyncCallback? callback, IAsyncResult result)
    {
        _device = device;
        _segments = segments;
        _segment = segment;
        _file = file;
        _callback = callback;
        _result = result;
    }

    /// <summary>Queues the removal of a segment <see cref="SegmentFiles.Detach"/> has taken out (its file, if it was open).</summary>
    public static void Start(FileAioDevice device, SegmentFiles segments, int segment, AioFile? file, AsyncCallback? callback, IAsyncResult result) =>
        ThreadPool.UnsafeQueueUserWorkItem(new SegmentRemoval(device, segments, segment, file, callback, result), preferLocal: false);

    void IThreadPoolWorkItem.Execute() => _ = RunAsync(); // never faults: RunAsync catches everything

    private async Task RunAsync()
    {
        ExceptionDispatchInfo? failed = null;
        try
        {
            await _segments.CloseAndDeleteAsync(_segment, _file).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failed = ExceptionDispatchInfo.Capture(e);
        }

        ExceptionDispatchInfo? thrown = null;
        FileAioDevice? outer = FileAioDevice.t_inRemovalCallbackOf;
        FileAioDevice.t_inRemovalCallbackOf = _device;
        try
        {
            _callback?.Invoke(_result);
        }
        catch (Exception e)
        {
            thrown = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            FileAioDevice.t_inRemovalCallbackOf = outer;
            _device.RemovalEnded();
        }
        if (failed is not null)
        {
            CallbackFailures.Raise(failed);
        }
        if (thrown is not null)
        {
            CallbackFailures.Raise(thrown);
        }
    }
}
