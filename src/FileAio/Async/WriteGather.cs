using System.Diagnostics;
using FileAio.Engines;
using FileAio.Platform;

namespace FileAio.Async;

/// <summary>
/// Write gathering: writes of one regular file that a loop takes one after another, each beginning where the one
/// before it ends, go to the engine as one vectored write (<c>pwritev</c>), and each caller gets its own part of the
/// answer. The loop owns it (no locks).
/// </summary>
/// <remarks>
/// <para>1. Why. A write-ahead log's appenders each write the next block and flush; on a loop, a round's writes are
/// taken in one turn. ext4 sends every page-cache write that io_uring submits to a kernel worker, and runs one file's
/// one at a time there: sixteen 4 KiB writes were sixteen hand-offs in a row before the round's one fdatasync could
/// start. As one write they are one hand-off (docs/benchmarks.md, "Gathered writes").</para>
/// <para>2. What gathers. Plain (one-buffer) writes of a file whose writes always end — not a FIFO, socket, character
/// device or FUSE file, where a write may wait for ever and must stay cancellable on its own — taken consecutively
/// (a flush between them joins its group, whose fsync waits at the end of the backlog anyway: FlushGroup, remark 2),
/// at adjacent offsets, at most <see cref="MaxRiders"/> of them and <see cref="MaxBytes"/> in all, each at most
/// <see cref="MaxRiderBytes"/> (a large write gains nothing). Adjacent ranges never overlap, so the file ends up as the
/// separate writes would leave it, in any order. Only on engines whose vectored writes are the kernel's own
/// (<see cref="IAioEngine.GathersWrites"/>).</para>
/// <para>3. Answers. The carrier's bytes go to its riders in order: each fully written rider gets its length, the one
/// the write ended inside gets the bytes written of it (a short write, as <c>pwrite</c> may give). A rider of which
/// nothing was written — after a short write, or when the write failed — is started again on its own
/// (<see cref="AsyncOperation.WriteAlone"/>, at the front of the backlog, in order), so that it gets exactly the answer
/// its own write gets: a failed gathered write says nothing certain about each of its parts (ENOSPC at the first
/// block, say, while a later one was already allocated). The flush barrier saw one write complete, though, and may
/// already have let a flush of the file go that waits for one of those: every fsync of the file then in the engine is
/// marked (<see cref="AsyncOperation.AnswersTooEarly"/>), and a marked fsync that succeeds hands its flushes on to the
/// file's next one, which the barrier holds behind the writes started again. A cancellation — the file or the loop
/// closing — cancels every rider.</para>
/// <para>4. Cancellation. A rider whose token fires while its gathered write waits in the backlog (the engine had no
/// room for it) takes the gathered write apart: it ends cancelled, as any write that never reached the kernel, and
/// the others start again alone, at the front of the backlog. Once the gathered write is in the engine, a rider is not
/// cancelled on its own (its token is seen only if it is started again): the write lasts microseconds in the page
/// cache, a device's time with O_DIRECT, and the others' bytes are in the same call. The file's Dispose cancels the
/// carrier, and with it every rider.</para>
/// <para>5. Which fsyncs a short gathered write marks (remark 3): those of its file the engine accepted after it. An
/// fsync issued before it waits for no write begun after it (the barrier), so none of its flushes waits for one of
/// the riders; a gathered write that never reached the engine (refused, or taken apart in the backlog) marks none.</para>
/// </remarks>
internal sealed class WriteGather
{
    /// <summary>Writes in one gathered write (iovecs; the kernel takes up to 1024).</summary>
    public const int MaxRiders = 64;

    /// <summary>Bytes in one gathered write.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The largest write that gathers.</summary>
    public const int MaxRiderBytes = 64 << 10;

    private readonly Stack<AsyncOperation> _free = new();
    private int _riding;
    private int _carriers;

    /// <summary>Writes riding a gathered write now (loop thread; read by the metrics, an int read is atomic).</summary>
    public int RidingCount => Volatile.Read(ref _riding);

    /// <summary>Carriers rented and not yet returned: in the loop's backlog or its engine (loop thread; read by the
    /// metrics, which count a gathered write once per write it carries, not once more for itself).</summary>
    public int CarrierCount => Volatile.Read(ref _carriers);

    /// <summary>Whether <paramref name="write"/> may begin a gathered write (remark 2).</summary>
    public static bool CanLead(AsyncOperation write) =>
        write.Io.Kind == OperationKind.Write && !write.IsWriteCarrier && !write.WriteAlone && !write.Io.IsVectored
        && write.Io.SegmentLength(0) is > 0 and <= MaxRiderBytes
        && (write.File.Traits & (FileTraits.Pollable | FileTraits.OnFuse)) == 0;

    /// <summary>Whether <paramref name="next"/> may join a gathered write that begins with <paramref name="first"/>
    /// and whose <paramref name="riders"/> writes hold <paramref name="bytes"/> and end at <paramref name="end"/>.</summary>
    public static bool CanJoin(AsyncOperation first, long end, int bytes, int riders, AsyncOperation next) =>
        CanLead(next) && ReferenceEquals(next.File, first.File) && next.Io.Offset == end
        && riders < MaxRiders && bytes + next.Io.SegmentLength(0) <= MaxBytes;

    /// <summary>A carrier with no riders, from the free ones or new.</summary>
    public AsyncOperation Rent()
    {
        _carriers++;
        return _free.TryPop(out AsyncOperation? carrier) ? carrier : AsyncOperation.CreateWriteCarrier();
    }

    /// <summary>Puts <paramref name="write"/> on <paramref name="carrier"/> (not yet in the engine).</summary>
    public void Ride(AsyncOperation carrier, AsyncOperation write)
    {
        write.State = LoopState.WriteRiding;
        write.RidingOn = carrier;
        carrier.CarrierRiders!.AddLast(write);
        _riding++;
    }

    /// <summary>The next rider of <paramref name="carrier"/> to answer, taken off it; null when none is left.</summary>
    public AsyncOperation? TakeRider(AsyncOperation carrier)
    {
        AsyncOperation? rider = carrier.CarrierRiders!.TakeFirst();
        if (rider is not null)
        {
            rider.RidingOn = null;
            _riding--;
        }
        return rider;
    }

    /// <summary>A carrier the loop is done with (its riders taken off): lets go of what it held, for reuse.</summary>
    public void Return(AsyncOperation carrier)
    {
        carrier.EndWriteCarrier();
        _carriers--;
        _free.Push(carrier);
    }

    /// <summary>What a rider gets of a gathered write's <paramref name="result"/> (remark 3), given the bytes of it not
    /// yet handed to the riders before it (updated): its answer, or null when it is to be started again alone.</summary>
    public static long? AnswerFor(AsyncOperation rider, long result, ref long unclaimed)
    {
        if (result == OperationResult.Canceled)
        {
            return result;
        }
        if (unclaimed <= 0)
        {
            return null; // nothing of it written: it must hear its own write's answer
        }
        long length = rider.Io.SegmentLength(0);
        long answer = Math.Min(length, unclaimed);
        unclaimed -= answer;
        Debug.Assert(answer > 0);
        return answer;
    }
}
