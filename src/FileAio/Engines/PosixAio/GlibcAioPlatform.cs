using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using FileAio.Interop;
using FileAio.Interop.PosixAio;
using static FileAio.Interop.PosixAio.GlibcAioConstants;

namespace FileAio.Engines.PosixAio;

/// <summary>
/// POSIX AIO on glibc: requests with SIGEV_NONE, completions found by scanning the armed blocks' <c>aio_error</c>, the
/// reaper asleep in <c>aio_suspend</c> over one in-progress block per descriptor (<see cref="GlibcSuspendChoice"/>)
/// plus the process's <see cref="GlibcDoorbell"/> sentinel. Why not SIGEV_THREAD: glibc starts a thread per completion
/// (and silently drops the notification when it cannot), which measured several times slower (docs/engines.md).
/// </summary>
/// <remarks>
/// glibc does the work with blocking pread/pwrite/fsync on its helper threads, one request at a time per descriptor
/// number: a queue depth on one file descriptor is served one request after another (aio-abi.md §2.5).
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class GlibcAioPlatform : IPosixAioPlatform
{
    /// <summary>Most requests one engine holds: glibc has no limit of its own; this is Linux AIO's default
    /// machine-wide budget (fs.aio-max-nr), so that "unlimited" means the same on both Linux AIO engines.</summary>
    public const int MaxOutstanding = 65536;

    /// <summary>Most armed requests one sleep looks at (and so most blocks one <c>aio_suspend</c> lists: glibc keeps
    /// two arrays of the list's length on the caller's stack, about 40 bytes an entry, and 1024 keeps that near
    /// 40 KiB). With more in flight the reaper looks at a rotating window of them and sleeps at most
    /// <see cref="SliceMilliseconds"/>, so a request outside the window is seen within that time.</summary>
    private const int SuspendListMax = 1024;

    /// <summary>The longest a partial or coalesced sleep (<see cref="GlibcSuspendChoice"/>) lasts.</summary>
    private const int SliceMilliseconds = 2;

    /// <summary>What we write into <c>__error_code</c> before <c>lio_listio</c>: glibc overwrites it with EINPROGRESS
    /// when it queues the block and with the error when it refuses it, except when its request pool cannot grow,
    /// where it writes nothing (aio-abi.md §2.5). A value no errno has.</summary>
    private const int NotQueuedMark = -4242;

    private readonly GlibcDoorbell _doorbell;
    private readonly GlibcAiocb* _blocks;
    private readonly GlibcAiocb** _list;       // lio_listio's list, and aio_suspend's (capacity + the sentinel)
    private readonly ulong[] _tags;
    private readonly int[] _armed;             // 1 while the block is queued and accepted
    private readonly int _capacity;
    private int _highWater;                    // no slot at or above this was ever armed
    private readonly long[] _armSequence;      // when each slot was armed (the submitter's counter, below)
    private long _nextArmSequence;             // the submitter's
    private int _windowStart;                  // the reaper's: where a partial window starts
    private readonly SuspendCandidate[] _candidates; // the reaper's, with _chosen and _suspendList
    private readonly int[] _chosen;
    private bool _coalescedSleepTimedOut;      // the reaper's: its last coalesced sleep ran out (see Sleep)

    public GlibcAioPlatform(int capacity, GlibcDoorbell doorbell)
    {
        _capacity = capacity;
        _doorbell = doorbell;
        _blocks = (GlibcAiocb*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(GlibcAiocb)), 64);
        NativeMemory.Clear(_blocks, (nuint)(capacity * sizeof(GlibcAiocb)));
        _list = (GlibcAiocb**)NativeMemory.AllocZeroed((nuint)MaxBatchSize, (nuint)sizeof(GlibcAiocb*));
        _suspendList = (GlibcAiocb**)NativeMemory.AllocZeroed((nuint)(Math.Min(capacity, SuspendListMax) + 1), (nuint)sizeof(GlibcAiocb*));
        _tags = new ulong[capacity];
        _armed = new int[capacity];
        _armSequence = new long[capacity];
        _candidates = new SuspendCandidate[Math.Min(capacity, SuspendListMax)];
        _chosen = new int[_candidates.Length];
    }

    private readonly GlibcAiocb** _suspendList; // the reaper's own, so a submitter's lio_listio list is never shared

    public string Name => "glibc";

    /// <summary>glibc keeps a list's pointers on the caller's stack; 64 per call is plenty for any batch.</summary>
    public int MaxBatch => MaxBatchSize;

    private const int MaxBatchSize = 64;

    public int ErrnoCanceled => ECANCELED;

    public bool IsTransient(int errno) => errno is Errno.EAGAIN or Errno.ENOMEM;

    public void Prepare(int slot, IoOperation operation, ulong tag)
    {
        GlibcAiocb* block = _blocks + slot;
        *block = default;
        block->Fildes = operation.Fd;
        block->SigEvent.Notify = SIGEV_NONE;
        block->ErrorCode = NotQueuedMark;
        if (operation.Kind != OperationKind.Flush)
        {
            block->LioOpcode = operation.Kind == OperationKind.Read ? LIO_READ : LIO_WRITE;
            block->Buf = (nint)operation.SegmentPointer(0);
            block->NBytes = (nuint)operation.SegmentLength(0);
            block->Offset = operation.Offset;
        }
        _tags[slot] = tag;
    }

    public void SubmitList(ReadOnlySpan<int> slots, Span<int> errors)
    {
        for (int i = 0; i < slots.Length; i++)
        {
            _list[i] = _blocks + slots[i];
        }
        int result = GlibcAio.ListIo(LIO_NOWAIT, _list, slots.Length, null);
        int lastErrno = result == 0 ? 0 : Marshal.GetLastPInvokeError();
        for (int i = 0; i < slots.Length; i++)
        {
            if (result == 0)
            {
                errors[i] = 0;
                continue;
            }
            // -1 names only the last failure (aio-abi.md §5 trap 15): ask each block. Queued ones report EINPROGRESS
            // or, if already done, their result; the rest the enqueue error or our mark.
            int error = GlibcAio.Error(_blocks + slots[i]);
            errors[i] = error switch
            {
                NotQueuedMark => lastErrno == 0 ? Errno.EAGAIN : lastErrno,
                Errno.EAGAIN => Errno.EAGAIN,  // a refused enqueue (a helper thread could not start): not queued
                _ => 0,
            };
        }
    }

    public int SubmitOne(int slot, OperationKind kind, bool dataOnly)
    {
        GlibcAiocb* block = _blocks + slot;
        int result = kind switch
        {
            OperationKind.Read => GlibcAio.Read(block),
            OperationKind.Write => GlibcAio.Write(block),
            _ => GlibcAio.FSync(dataOnly ? O_DSYNC : O_SYNC, block),
        };
        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Never: see <see cref="Cancel"/>. A queued entry after a refused one is kept (and accepted).</summary>
    public bool TakeBack(int slot, int fd) => false;

    public void Arm(int slot)
    {
        if (slot >= _highWater)
        {
            Volatile.Write(ref _highWater, slot + 1);
        }
        // glibc runs a descriptor's requests in the order they were queued; the reaper picks which to list by it.
        _armSequence[slot] = _nextArmSequence++;
        // Published after the block is queued; the reaper reads it after announcing its sleep (full fences on both
        // sides, in the engine), so a block armed while the reaper sleeps is either in its list or kicks it.
        Volatile.Write(ref _armed[slot], 1);
    }

    /// <summary>
    /// glibc's <c>aio_cancel</c> is not called: when it takes a request off the head of its descriptor's queue before a
    /// helper thread picked it up, glibc marks the next request of that descriptor runnable without putting it on the
    /// run list, and every later request of the descriptor then waits for ever (glibc 2.36, seen here:
    /// tests/Shared/glibc-aio-cancel-strand.c). So a request in glibc's hands is never cancelled — "running"
    /// (InProgress) until it finishes, "all done" once it has.
    /// </summary>
    public PosixAioCancelAnswer Cancel(int slot, int fd) =>
        GlibcAio.Error(_blocks + slot) == EINPROGRESS ? PosixAioCancelAnswer.NotCanceled : PosixAioCancelAnswer.AllDone;

    public int Collect(Span<PosixAioFinished> into)
    {
        int n = 0;
        int high = Volatile.Read(ref _highWater);
        for (int slot = 0; slot < high && n < into.Length; slot++)
        {
            if (Volatile.Read(ref _armed[slot]) == 0)
            {
                continue;
            }
            GlibcAiocb* block = _blocks + slot;
            // A peek without glibc's lock first, so that requests still running cost no mutex; aio_error (which
            // takes the lock, ordering the helper's store of the return value before our read) confirms.
            if (Volatile.Read(ref block->ErrorCode) == EINPROGRESS)
            {
                continue;
            }
            int error = GlibcAio.Error(block);
            if (error == EINPROGRESS)
            {
                continue;
            }
            long bytes = GlibcAio.Return(block);
            _armed[slot] = 0;
            into[n++] = new PosixAioFinished(_tags[slot], error == 0 ? bytes : -(long)error);
        }
        return n;
    }

    public void BeginSleep() => _doorbell.Enter();

    public void Sleep(Deadline deadline, int wanted)
    {
        int found = 0;
        int high = Volatile.Read(ref _highWater);
        bool partial = false;
        for (int i = 0; i < high; i++)
        {
            int slot = (_windowStart + i) % high;
            if (Volatile.Read(ref _armed[slot]) == 1)
            {
                if (found == _candidates.Length)
                {
                    partial = true;
                    _windowStart = slot; // the next sleep looks at the ones left out this time
                    break;
                }
                // Fildes is ours (glibc never writes it); the sequence was stored before the slot was armed. A slot a
                // canceller's harvest freed during this scan may be re-prepared meanwhile: its values are then stale,
                // which only misgroups this one choice (a block not in progress ends the sleep at once), and the new
                // Start kicks the sleep anyway.
                _candidates[found++] = new SuspendCandidate(_blocks[slot].Fildes, _armSequence[slot], slot);
            }
        }
        int count = GlibcSuspendChoice.Choose(_candidates.AsSpan(0, found), wanted, coalesce: !_coalescedSleepTimedOut,
            _chosen, out bool coalesced);
        for (int i = 0; i < count; i++)
        {
            _suspendList[i] = _blocks + _chosen[i];
        }
        _suspendList[count++] = _doorbell.Sentinel;

        // A partial list, or a listed request later than the caller needs, is a sleep capped at one slice: what is
        // left out, or finishes first, is seen within it.
        bool sliced = partial || coalesced;
        Timespec timeout = default;
        Timespec* relative = null;
        if (sliced || !deadline.IsInfinite)
        {
            TimeSpan left = sliced && (deadline.IsInfinite || deadline.Remaining.TotalMilliseconds > SliceMilliseconds)
                ? TimeSpan.FromMilliseconds(SliceMilliseconds)
                : deadline.Remaining;
            timeout = new Timespec { Seconds = left.Ticks / TimeSpan.TicksPerSecond, Nanoseconds = left.Ticks % TimeSpan.TicksPerSecond * 100 };
            relative = &timeout;
        }
        // 0: one listed request finished; -1 EAGAIN: timed out; -1 EINTR: a signal. The caller looks again either way.
        int result = GlibcAio.Suspend(_suspendList, count, relative);
        // A coalesced sleep that ran out means the requests are slower than the slice: the next sleep lists exactly
        // what the caller needs, so slow requests cost one extra wake each, not a wake every slice.
        _coalescedSleepTimedOut = coalesced && result != 0 && Marshal.GetLastPInvokeError() == Errno.EAGAIN;
    }

    public void EndSleep()
    {
        if (_doorbell.Leave())
        {
            Thread.Yield(); // the sentinel fired and other sleepers still hold it: let them leave so it is re-armed
        }
    }

    public void Kick() => _doorbell.Ring();

    public void Dispose()
    {
        // The engine has collected every request: glibc holds none of these blocks.
        NativeMemory.AlignedFree(_blocks);
        NativeMemory.Free(_list);
        NativeMemory.Free(_suspendList);
    }
}
