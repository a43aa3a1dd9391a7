using System.Diagnostics;
using FileAio.Engines;

namespace FileAio.Async;

/// <summary>
/// Group commit for one file's flushes: at most <see cref="MaxInFlight"/> fsyncs/fdatasyncs of the file in the engine
/// at a time, and every flush that arrives while they all run waits and then shares ONE next one (issued when a slot
/// frees). The file's engine
/// loop owns it (no locks).
/// </summary>
/// <remarks>
/// <para>1. The rule. A flush may only be answered by an fsync issued <em>after</em> the loop took that flush from its
/// queue (which is after the call), so the fsync covers every write that completed before the call. A flush that
/// arrives while an fsync of the file is still waiting to enter the engine rides it (it has not been issued yet); one
/// that arrives while every slot is in the engine waits for the next.</para>
/// <para>2. The barrier. Each shared fsync is an operation of the file's <see cref="FlushScope"/> like any flush, and
/// it enters the engine behind every operation the loop took before the flushes it answers: it waits at the end of the
/// loop's backlog (into which the loop first moves what is queued to it), so it still waits for the writes started
/// before each of them. Behind the backlog rather than at its first flush's place, so that a turn's flushes share one
/// fsync: sixteen appenders on a loop, each beginning its write and its flush together, went from about 44K to 74K
/// commits/s (docs/benchmarks.md, "The write-ahead log"). The price is a barrier over the writes queued after that
/// first flush too: page-cache writes, usually, in flight for microseconds. Not for a file whose write may never end
/// (a FIFO, a socket, FUSE: <c>EngineLoop.WritesMayNeverEnd</c>): there the fsync starts at its first flush's place, as
/// before this design, and the turn's later flushes of that file take the next fsync.</para>
/// <para>3. Carriers. Each fsync runs in an operation of the group's own (<see cref="AsyncOperation.CreateCarrier"/>),
/// never a caller's: each caller keeps its own cancellation (a cancelled flush leaves the group and ends at once, the
/// fsync goes on for the others), and the answer — success or the errno — goes to every flush it served. A carrier
/// holds a reference on the handle while the kernel has it, so a file whose last flush was cancelled can close while
/// the fsync finishes; and it is counted in the file's flight (<see cref="AioFile.OperationsInFlight"/>) while it is
/// queued or in the engine, so that Dispose waits for the kernel's fsync even when every flush it answers was
/// cancelled and has ended.</para>
/// <para>4. Flushes asking for fsync and for fdatasync share one: fsync when any of them asked for it.</para>
/// </remarks>
internal sealed class FlushGroup
{
    /// <summary>fsyncs of one file in the engine at once; flushes beyond these share the next. More than one because
    /// devices serve concurrent flushes in parallel — this VM's virtual disk did 0.2–8.5K write + fdatasync commits/s
    /// from one fio job and 20–40K from 16 jobs on one file — and one at a time once fell to a third of the ungrouped
    /// rate there (6.9K against 21.5K commits/s, 16 appenders). 4 rather than more: in one alternating run, 1, 4 and 8
    /// gave 21.7K, 24.5K and 23.3K commits/s (medians of three; ungrouped 23.5K) at 43, 54 and 60 µs of CPU per commit
    /// (ungrouped 67). docs/benchmarks.md, "The write-ahead log".</summary>
    public const int MaxInFlight = 4;

    private readonly AsyncOperation?[] _carriers = new AsyncOperation?[MaxInFlight];
    private readonly OperationList _waiting = new();  // arrived while every carrier was in the engine: the next one
    private AsyncOperation? _queued;                  // a carrier in the loop's backlog, still taking riders
    private long _issued;                             // fsyncs the engine accepted (tests, diagnostics)
    private long _answered;                           // fsyncs whose answer went to their riders
    private long _answering;                          // the issue number of the fsync answering now

    /// <summary>fsyncs/fdatasyncs the engine has accepted for this file so far. Written by the loop thread.</summary>
    public long IssuedCount => Volatile.Read(ref _issued);

    /// <summary>fsyncs/fdatasyncs that have answered their flushes so far. Written by the loop thread.</summary>
    public long AnsweredCount => Volatile.Read(ref _answered);

    /// <summary>The issue number (1 = the file's first fsync) of the fsync whose answer is being handed out now, or
    /// was last: read by a flush's continuation that runs inline as the loop answers it (loop mode), the number of the
    /// very fsync that answered it.</summary>
    public long AnsweringIssueNumber => Volatile.Read(ref _answering);

    /// <summary>Flushes waiting for a free slot (loop thread only).</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>The engine accepted <paramref name="carrier"/> (loop thread).</summary>
    public void NoteIssued(AsyncOperation carrier)
    {
        Debug.Assert(carrier.State == LoopState.InEngine);
        if (ReferenceEquals(carrier, _queued))
        {
            _queued = null; // in the engine now: later flushes may have missed it (remark 1)
        }
        Volatile.Write(ref _issued, _issued + 1);
        carrier.CarrierIssueNumber = _issued;
    }

    /// <summary>
    /// A caller's flush, just taken by the loop. Returns a new carrier, prepared and pinned, when the flush needs an
    /// fsync of its own — for the caller to queue at the end of its backlog (remark 2), where it takes the riders that
    /// arrive before it enters the engine, or to start at once for a file whose writes may never end — or null when
    /// the flush joined one already under way (to ride the queued one, or to wait for a free slot), or when no fsync
    /// can be issued because the handle was closed under the file (<paramref name="refused"/>: the flush is the
    /// caller's to fail).
    /// </summary>
    public AsyncOperation? Arrive(AsyncOperation flush, AsyncFile file, out bool refused)
    {
        refused = false;
        Debug.Assert(flush.Io.Kind == OperationKind.Flush && !flush.IsFlushCarrier);
        // Only while it is still in the backlog: once taken into a batch, flushes taken after it may follow writes
        // that enter the engine after it.
        if (_queued is { State: LoopState.Backlog } queued)
        {
            Ride(flush, queued);
            if (!flush.Io.DataOnly && queued.Io.DataOnly)
            {
                queued.Io.SetFlush(file.Handle, file.Traits, dataOnly: false); // remark 4
            }
            return null;
        }
        if (FreeCarrier() is not AsyncOperation carrier)
        {
            flush.State = LoopState.FlushWaiting;
            _waiting.AddLast(flush);
            return null;
        }
        // Queued, not started at this flush's place: the caller puts it at the end of the backlog, behind everything
        // the loop holds (remark 2), so the flushes it takes after this one in the same turn ride it.
        if (!carrier.TryBeginCarrier(file, flush.Io.DataOnly))
        {
            refused = true; // the caller closed the handle: this flush fails with EBADF
            return null;
        }
        Ride(flush, carrier);
        _queued = carrier;
        return carrier;
    }

    /// <summary>After a carrier answered its riders: when flushes wait, they become the riders of the next fsync,
    /// returned prepared (for the caller to queue at the end of its backlog); else null — with <paramref name="refused"/>
    /// when flushes wait but no fsync can be issued, the handle having been closed under the file.</summary>
    public AsyncOperation? NextRound(AsyncFile file, out bool refused)
    {
        refused = false;
        if (_waiting.IsEmpty || _queued is not null || FreeCarrier() is not AsyncOperation carrier)
        {
            return null;
        }
        bool dataOnly = true;
        for (AsyncOperation? flush = _waiting.First; flush is not null; flush = flush.Next)
        {
            dataOnly &= flush.Io.DataOnly;
        }
        if (!carrier.TryBeginCarrier(file, dataOnly))
        {
            refused = true; // the caller closed the handle: TakeWaiting hands the waiting flushes back to fail
            return null;
        }
        while (_waiting.TakeFirst() is AsyncOperation flush)
        {
            Ride(flush, carrier);
        }
        _queued = carrier;
        return carrier;
    }

    /// <summary>The next rider of <paramref name="carrier"/> to answer, taken out of the group; null when none is left.</summary>
    public static AsyncOperation? TakeRider(AsyncOperation carrier)
    {
        AsyncOperation? rider = carrier.CarrierRiders!.TakeFirst();
        if (rider is not null)
        {
            rider.RidingOn = null;
        }
        return rider;
    }

    /// <summary>A rider of a carrier whose success cannot answer it (<see cref="AsyncOperation.AnswersTooEarly"/>): it
    /// waits for the file's next fsync instead.</summary>
    public void WaitForNext(AsyncOperation flush)
    {
        Debug.Assert(flush.RidingOn is null, "taken off its carrier first (TakeRider)");
        flush.State = LoopState.FlushWaiting;
        _waiting.AddLast(flush);
    }

    /// <summary>The next waiting flush, taken out (the file or the loop is closing); null when none is left.</summary>
    public AsyncOperation? TakeWaiting() => _waiting.TakeFirst();

    /// <summary>Takes a caller's flush out of the group (its token fired); it is the caller's to complete.</summary>
    public void Remove(AsyncOperation flush)
    {
        if (flush.State == LoopState.FlushWaiting)
        {
            _waiting.Remove(flush);
            return;
        }
        Debug.Assert(flush.State == LoopState.FlushRiding);
        flush.RidingOn!.CarrierRiders!.Remove(flush);
        flush.RidingOn = null;
    }

    /// <summary>A carrier has left the engine (or the backlog): releases its handle reference and its slot. The answer
    /// to give its riders: <paramref name="result"/>, or a cancellation when the loop asked the engine to stop it.</summary>
    public long CarrierDone(AsyncOperation carrier, long result)
    {
        carrier.Io.Unpin();
        carrier.File.OperationEnded(); // counted by TryBeginCarrier: Dispose waited for this fsync (remark 3)
        if (ReferenceEquals(carrier, _queued))
        {
            _queued = null; // cancelled, or refused, before the engine took it
        }
        Volatile.Write(ref _answered, _answered + 1);
        Volatile.Write(ref _answering, carrier.CarrierIssueNumber);
        carrier.CarrierIssueNumber = 0;
        return result == -Interop.Errno.ECANCELED && carrier.EngineCancelAsked ? OperationResult.Canceled : result;
    }

    private static void Ride(AsyncOperation flush, AsyncOperation carrier)
    {
        flush.State = LoopState.FlushRiding;
        flush.RidingOn = carrier;
        carrier.CarrierRiders!.AddLast(flush);
    }

    /// <summary>A carrier neither queued nor in the engine, created when a slot has none yet; null when every slot is busy.</summary>
    private AsyncOperation? FreeCarrier()
    {
        for (int i = 0; i < _carriers.Length; i++)
        {
            AsyncOperation? carrier = _carriers[i];
            if (carrier is null)
            {
                return _carriers[i] = AsyncOperation.CreateCarrier();
            }
            if (carrier.State is not (LoopState.Backlog or LoopState.InEngine))
            {
                return carrier;
            }
        }
        return null;
    }
}
