using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using FileAio.Interop.PosixAio;
using static FileAio.Interop.PosixAio.FreeBsdAioConstants;

namespace FileAio.Engines.PosixAio;

/// <summary>
/// POSIX AIO on FreeBSD, the original design: each request posts an EVFILT_AIO kevent (SIGEV_KEVENT) to the engine's
/// own kqueue, with its tag as <c>udata</c>; the reaper sleeps in <c>kevent</c> with a timeout, and a kick is an
/// EVFILT_USER event on the same kqueue (not a thread signal, which could be lost). <b>Compiled and layout-checked
/// only: never run</b> (docs/engines.md).
/// </summary>
/// <remarks>
/// The AIO knotes are registered without EV_ONESHOT/EV_CLEAR, so they are level-triggered: a finished job's event is
/// reported by every <c>kevent</c> until its <c>aio_return</c> (aio-abi.md §3.4). So <see cref="Sleep"/> may discard
/// what it sees, and <see cref="Collect"/> — the one caller of <c>aio_return</c> for armed jobs — reads them again.
/// </remarks>
[SupportedOSPlatform("freebsd")]
internal sealed unsafe class FreeBsdAioPlatform : IPosixAioPlatform
{
    /// <summary>vfs.aio.max_aio_queue_per_proc's default: queued plus finished-not-returned jobs of the whole process.</summary>
    public const int MaxOutstanding = 256;

    private const nuint WakeIdent = 1;

    private readonly int _kqueue;
    private readonly FreeBsdAiocb* _blocks;
    private readonly FreeBsdAiocb** _list;
    private readonly FreeBsdKevent* _events;
    private readonly ulong[] _tags;
    private readonly int[] _armed;
    private readonly int _capacity;

    private FreeBsdAioPlatform(int kqueue, int capacity)
    {
        _kqueue = kqueue;
        _capacity = capacity;
        _blocks = (FreeBsdAiocb*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(FreeBsdAiocb)), 64);
        NativeMemory.Clear(_blocks, (nuint)(capacity * sizeof(FreeBsdAiocb)));
        _list = (FreeBsdAiocb**)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(FreeBsdAiocb*));
        _events = (FreeBsdKevent*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(FreeBsdKevent));
        _tags = new ulong[capacity];
        _armed = new int[capacity];
    }

    /// <summary>A kqueue with the EVFILT_USER doorbell registered; or the errno.</summary>
    public static int TryCreate(int capacity, out FreeBsdAioPlatform? platform)
    {
        platform = null;
        int kq = FreeBsdAio.KQueue();
        if (kq < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        FreeBsdKevent change = default;
        change.Ident = WakeIdent;
        change.Filter = EVFILT_USER;
        change.Flags = EV_ADD | EV_CLEAR; // EV_CLEAR: a trigger is reported once, then the event resets
        if (FreeBsdAio.KEvent(kq, &change, 1, null, 0, null) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Interop.Syscalls.Close(kq);
            return errno;
        }
        platform = new FreeBsdAioPlatform(kq, capacity);
        return 0;
    }

    public string Name => "FreeBSD";

    /// <summary>AIO_LISTIO_MAX; the kernel's real limit (max_aio_queue_per_proc) is larger.</summary>
    public int MaxBatch => AIO_LISTIO_MAX;

    public int ErrnoCanceled => ECANCELED;

    public bool IsTransient(int errno) => errno is EAGAIN or 12 /* ENOMEM */;

    public void Prepare(int slot, IoOperation operation, ulong tag)
    {
        FreeBsdAiocb* block = _blocks + slot;
        *block = default;
        block->Fildes = operation.Fd;
        block->SigEvent.Notify = SIGEV_KEVENT;
        block->SigEvent.NotifyKqueue = _kqueue;
        block->SigEvent.Value = (nint)tag; // comes back as the kevent's udata
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
        int result = FreeBsdAio.ListIo(LIO_NOWAIT, _list, slots.Length, null);
        int listErrno = result == 0 ? 0 : Marshal.GetLastPInvokeError();
        for (int i = 0; i < slots.Length; i++)
        {
            if (result == 0)
            {
                errors[i] = 0;
                continue;
            }
            // EIO or EAGAIN tell only that some entry failed: aio_error of each stores its own (aio-abi.md §3.4).
            // EINVAL for the whole list means nothing was queued.
            int error = listErrno == 22 /* EINVAL */ ? 22 : FreeBsdAio.Error(_blocks + slots[i]);
            errors[i] = error is EINPROGRESS or 0 ? 0 : error < 0 ? Marshal.GetLastPInvokeError() : error;
        }
    }

    public int SubmitOne(int slot, OperationKind kind, bool dataOnly)
    {
        FreeBsdAiocb* block = _blocks + slot;
        int result = kind switch
        {
            OperationKind.Read => FreeBsdAio.Read(block),
            OperationKind.Write => FreeBsdAio.Write(block),
            _ => FreeBsdAio.FSync(dataOnly ? O_DSYNC : O_SYNC, block),
        };
        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public bool TakeBack(int slot, int fd)
    {
        FreeBsdAiocb* block = _blocks + slot;
        if (FreeBsdAio.Cancel(fd, block) != AIO_CANCELED)
        {
            return false;
        }
        FreeBsdAio.Return(block); // frees the cancelled job and its knote
        return true;
    }

    public void Arm(int slot) => Volatile.Write(ref _armed[slot], 1);

    public PosixAioCancelAnswer Cancel(int slot, int fd) => FreeBsdAio.Cancel(fd, _blocks + slot) switch
    {
        AIO_CANCELED => PosixAioCancelAnswer.Canceled,
        AIO_ALLDONE => PosixAioCancelAnswer.AllDone,
        _ => PosixAioCancelAnswer.NotCanceled,
    };

    public int Collect(Span<PosixAioFinished> into)
    {
        Interop.PosixAio.Timespec zero = default;
        int events = FreeBsdAio.KEvent(_kqueue, null, 0, _events, Math.Min(into.Length, _capacity), &zero);
        int n = 0;
        for (int i = 0; i < events; i++)
        {
            FreeBsdKevent* e = _events + i;
            if (e->Filter != EVFILT_AIO)
            {
                continue; // the doorbell: it only ends a sleep
            }
            ulong tag = (ulong)e->UData;
            int slot = SlotTable.IndexOf(tag);
            if ((uint)slot >= (uint)_capacity || _tags[slot] != tag || Volatile.Read(ref _armed[slot]) == 0)
            {
                continue; // being taken back by its submitter: it is reported again until then (level-triggered)
            }
            FreeBsdAiocb* block = _blocks + slot;
            int error = FreeBsdAio.Error(block);
            long bytes = FreeBsdAio.Return(block); // exactly once: frees the job and its per-process slot
            _armed[slot] = 0;
            into[n++] = new PosixAioFinished(tag, error == 0 ? bytes : -(long)error);
        }
        return n;
    }

    public void BeginSleep()
    {
    }

    public void Sleep(Deadline deadline, int wanted)
    {
        FreeBsdKevent seen;
        Interop.PosixAio.Timespec timeout = default;
        Interop.PosixAio.Timespec* relative = null;
        if (!deadline.IsInfinite)
        {
            timeout = Interop.PosixAio.Timespec.FromMilliseconds(deadline.RemainingMillisecondsRoundedUp);
            relative = &timeout;
        }
        FreeBsdAio.KEvent(_kqueue, null, 0, &seen, 1, relative); // EINTR or timeout: the caller looks again
    }

    public void EndSleep()
    {
    }

    public void Kick()
    {
        FreeBsdKevent trigger = default;
        trigger.Ident = WakeIdent;
        trigger.Filter = EVFILT_USER;
        trigger.FFlags = NOTE_TRIGGER;
        FreeBsdAio.KEvent(_kqueue, &trigger, 1, null, 0, null);
    }

    public void Dispose()
    {
        Interop.Syscalls.Close(_kqueue);
        NativeMemory.AlignedFree(_blocks);
        NativeMemory.Free(_list);
        NativeMemory.Free(_events);
    }
}
