using System.Diagnostics;
using FileAio.Engines;

namespace FileAio.Async;

/// <summary>
/// Group commit for one file's flushes: at most one fsync/fdatasync of the file in the kernel at a time, and every
/// flush that arrives while it runs waits and then shares ONE next one. The file's engine loop owns it (no locks).
/// </summary>
/// <remarks>
/// <para>1. The rule. A flush may only be answered by an fsync issued <em>after</em> the loop took that flush from its
/// queue (which is after the call), so the fsync covers every write that completed before the call. A flush that
/// arrives while the file's fsync is still waiting to enter the engine rides it (it has not been issued yet); one that
/// arrives while the fsync is in the engine waits for the next.</para>
/// <para>2. The barrier. The shared fsync is an operation of the file's <see cref="FlushScope"/> like any flush, and it
/// enters the engine behind every operation the loop took before the flushes it answers (the first right where the
/// first of them was taken, the next at the end of the backlog), so it still waits for the writes started before each
/// of them.</para>
/// <para>3. The carrier. The fsync runs in an operation of the group's own (<see cref="AsyncOperation.CreateCarrier"/>),
/// never a caller's: each caller keeps its own cancellation (a cancelled flush leaves the group and ends at once, the
/// fsync goes on for the others), and the answer — success or the errno — goes to every flush it served. The carrier
/// holds a reference on the handle while the kernel has it, so a file whose last flush was cancelled can close while
/// the fsync finishes. It is not counted in flight: the callers' flushes are.</para>
/// <para>4. Flushes asking for fsync and for fdatasync share one: fsync when any of them asked for it.</para>
/// </remarks>
internal sealed class FlushGroup
{
    private readonly OperationList _riders = new();   // answered by the carrier's next (or current) fsync
    private readonly OperationList _waiting = new();  // arrived while the carrier was in the engine: the one after
    private AsyncOperation? _carrier;
    private long _issued;                             // fsyncs the engine accepted (tests, diagnostics)
    private long _answered;                           // fsyncs whose answer went to their riders

    /// <summary>fsyncs/fdatasyncs the engine has accepted for this file so far. Written by the loop thread.</summary>
    public long IssuedCount => Volatile.Read(ref _issued);

    /// <summary>fsyncs/fdatasyncs that have answered their flushes so far (counted before the first of them
    /// completes). Written by the loop thread.</summary>
    public long AnsweredCount => Volatile.Read(ref _answered);

    /// <summary>The engine accepted the carrier (loop thread).</summary>
    public void NoteIssued() => Volatile.Write(ref _issued, _issued + 1);

    /// <summary>Flushes waiting for the fsync after the one in the engine (loop thread only).</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>Flushes the carrier's fsync will answer (loop thread only).</summary>
    public int RidingCount => _riders.Count;

    /// <summary>Whether the carrier is queued or in the engine.</summary>
    private bool CarrierBusy => _carrier is { State: LoopState.Backlog or LoopState.InEngine };

    /// <summary>
    /// A caller's flush, just taken by the loop. Returns the carrier when an fsync must be issued now, at this place in
    /// the loop's order (remark 2) — prepared and pinned, for the caller to start — or null when the flush joined one
    /// already under way (to ride the queued one, or to wait for the next).
    /// </summary>
    public AsyncOperation? Arrive(AsyncOperation flush, AsyncFile file)
    {
        Debug.Assert(flush.Io.Kind == OperationKind.Flush && !flush.IsFlushCarrier);
        if (_carrier is { State: LoopState.InEngine })
        {
            flush.State = LoopState.FlushWaiting;
            _waiting.AddLast(flush);
            return null;
        }
        flush.State = LoopState.FlushRiding;
        _riders.AddLast(flush);
        if (_carrier is { State: LoopState.Backlog } queued)
        {
            if (!flush.Io.DataOnly && queued.Io.DataOnly)
            {
                queued.Io.SetFlush(file.Handle, file.Traits, dataOnly: false); // remark 4
            }
            return null;
        }
        return Prepare(file, flush.Io.DataOnly);
    }

    /// <summary>After the carrier's fsync answered its riders: when flushes wait, they become the riders of the next
    /// fsync, returned prepared (for the caller to queue at the end of its backlog); else null.</summary>
    public AsyncOperation? NextRound(AsyncFile file)
    {
        if (_waiting.IsEmpty)
        {
            return null;
        }
        bool dataOnly = true;
        while (_waiting.TakeFirst() is AsyncOperation flush)
        {
            dataOnly &= flush.Io.DataOnly;
            flush.State = LoopState.FlushRiding;
            _riders.AddLast(flush);
        }
        return Prepare(file, dataOnly);
    }

    /// <summary>The next rider to answer, taken out of the group; null when none is left.</summary>
    public AsyncOperation? TakeRider() => _riders.TakeFirst();

    /// <summary>The next waiting flush, taken out (the file or the loop is closing); null when none is left.</summary>
    public AsyncOperation? TakeWaiting() => _waiting.TakeFirst();

    /// <summary>Takes a caller's flush out of the group (its token fired); it is the caller's to complete.</summary>
    public void Remove(AsyncOperation flush)
    {
        if (flush.State == LoopState.FlushWaiting)
        {
            _waiting.Remove(flush);
        }
        else
        {
            Debug.Assert(flush.State == LoopState.FlushRiding);
            _riders.Remove(flush);
        }
    }

    /// <summary>The carrier has left the engine (or the backlog): releases its handle reference. The answer to give
    /// the riders: <paramref name="result"/>, or a cancellation when the loop asked the engine to stop it.</summary>
    public long CarrierDone(AsyncOperation carrier, long result)
    {
        Debug.Assert(ReferenceEquals(carrier, _carrier));
        carrier.Io.Unpin();
        Volatile.Write(ref _answered, _answered + 1);
        return result == -Interop.Errno.ECANCELED && carrier.EngineCancelAsked ? OperationResult.Canceled : result;
    }

    private AsyncOperation Prepare(AsyncFile file, bool dataOnly)
    {
        AsyncOperation carrier = _carrier ??= AsyncOperation.CreateCarrier();
        Debug.Assert(!CarrierBusy, "one fsync of the file at a time");
        carrier.BeginCarrier(file, dataOnly);
        return carrier;
    }
}
