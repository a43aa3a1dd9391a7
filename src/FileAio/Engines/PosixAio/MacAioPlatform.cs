using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using FileAio.Interop.PosixAio;
using static FileAio.Interop.PosixAio.MacAioConstants;

namespace FileAio.Engines.PosixAio;

/// <summary>
/// POSIX AIO on macOS: requests with SIGEV_NONE, completions found by scanning <c>aio_error</c>, the reaper asleep in
/// <c>aio_suspend</c>. macOS has no kqueue AIO (EVFILT_AIO fails with ENOTSUP), no SIGEV_THREAD, and no file a
/// sentinel request could block on (AIO serves only regular files), so nothing can end an <c>aio_suspend</c> from
/// another thread: the reaper sleeps in slices of <see cref="SliceMilliseconds"/> and checks its flags between them.
/// A wakeup is never lost, but may take up to one slice to be seen. <b>Compiled and layout-checked only: never
/// run</b> (docs/engines.md).
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe class MacAioPlatform : IPosixAioPlatform
{
    /// <summary>kern.aioprocmax's default: jobs of the whole process, and the most <c>aio_suspend</c> takes.</summary>
    public const int MaxOutstanding = 16;

    /// <summary>Longest sleep before the flags are checked again: the bound on a wakeup's latency.</summary>
    private const int SliceMilliseconds = 5;

    private readonly MacAiocb* _blocks;
    private readonly MacAiocb** _list;
    private readonly MacAiocb** _suspendList;
    private readonly ulong[] _tags;
    private readonly int[] _armed;
    private readonly int _capacity;
    private int _kicked;

    public MacAioPlatform(int capacity)
    {
        _capacity = capacity;
        _blocks = (MacAiocb*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(MacAiocb)), 64);
        NativeMemory.Clear(_blocks, (nuint)(capacity * sizeof(MacAiocb)));
        _list = (MacAiocb**)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MacAiocb*));
        _suspendList = (MacAiocb**)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MacAiocb*));
        _tags = new ulong[capacity];
        _armed = new int[capacity];
    }

    public string Name => "macOS";

    public int MaxBatch => AIO_LISTIO_MAX;

    public int ErrnoCanceled => ECANCELED;

    public bool IsTransient(int errno) => errno is EAGAIN or 12 /* ENOMEM */;

    public void Prepare(int slot, IoOperation operation, ulong tag)
    {
        MacAiocb* block = _blocks + slot;
        *block = default;
        block->Fildes = operation.Fd;
        block->SigEvent.Notify = SIGEV_NONE;
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
        int result = ListIo(slots.Length);
        for (int i = 0; i < slots.Length; i++)
        {
            if (result == 0)
            {
                errors[i] = 0;
                continue;
            }
            // An invalid entry makes the kernel queue nothing; a limit stops some. aio_error of a block the kernel
            // never took: -1 EINVAL (aio-abi.md §4). Every submit error is EAGAIN here.
            int error = MacAio.Error(_blocks + slots[i]);
            errors[i] = error >= 0 && error is EINPROGRESS or 0 ? 0 : EAGAIN;
        }
    }

    private int ListIo(int count) => MacAio.ListIo(LIO_NOWAIT, _list, count, null);

    public int SubmitOne(int slot, OperationKind kind, bool dataOnly)
    {
        MacAiocb* block = _blocks + slot;
        int result = kind switch
        {
            OperationKind.Read => MacAio.Read(block),
            OperationKind.Write => MacAio.Write(block),
            _ => MacAio.FSync(dataOnly ? O_DSYNC : O_SYNC, block),
        };
        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public bool TakeBack(int slot, int fd)
    {
        MacAiocb* block = _blocks + slot;
        if (MacAio.Cancel(fd, block) != AIO_CANCELED)
        {
            return false;
        }
        MacAio.Return(block); // frees the job's per-process slot
        return true;
    }

    public void Arm(int slot) => Volatile.Write(ref _armed[slot], 1);

    public PosixAioCancelAnswer Cancel(int slot, int fd) => MacAio.Cancel(fd, _blocks + slot) switch
    {
        AIO_CANCELED => PosixAioCancelAnswer.Canceled,
        AIO_ALLDONE => PosixAioCancelAnswer.AllDone,
        _ => PosixAioCancelAnswer.NotCanceled,
    };

    public int Collect(Span<PosixAioFinished> into)
    {
        int n = 0;
        for (int slot = 0; slot < _capacity && n < into.Length; slot++)
        {
            if (Volatile.Read(ref _armed[slot]) == 0)
            {
                continue;
            }
            MacAiocb* block = _blocks + slot;
            int error = MacAio.Error(block);
            if (error == EINPROGRESS)
            {
                continue;
            }
            long bytes = MacAio.Return(block); // exactly once: frees the job's per-process slot
            _armed[slot] = 0;
            into[n++] = new PosixAioFinished(_tags[slot], error == 0 ? bytes : -(long)(error < 0 ? Marshal.GetLastPInvokeError() : error));
        }
        return n;
    }

    public void BeginSleep()
    {
    }

    public void Sleep(Deadline deadline, int wanted)
    {
        if (Interlocked.Exchange(ref _kicked, 0) == 1)
        {
            return;
        }
        int count = 0;
        for (int slot = 0; slot < _capacity; slot++)
        {
            if (Volatile.Read(ref _armed[slot]) == 1)
            {
                _suspendList[count++] = _blocks + slot;
            }
        }
        int ms = deadline.IsInfinite ? SliceMilliseconds : Math.Min(SliceMilliseconds, deadline.RemainingMillisecondsRoundedUp);
        if (count == 0)
        {
            Thread.Sleep(ms); // aio_suspend takes no empty list
            return;
        }
        Timespec timeout = Timespec.FromMilliseconds(ms);
        MacAio.Suspend(_suspendList, count, &timeout);
    }

    public void EndSleep()
    {
    }

    /// <summary>Nothing can interrupt <c>aio_suspend</c> here: the flag makes the next sleep return at once, and the
    /// slice bounds the current one.</summary>
    public void Kick() => Volatile.Write(ref _kicked, 1);

    public void Dispose()
    {
        NativeMemory.AlignedFree(_blocks);
        NativeMemory.Free(_list);
        NativeMemory.Free(_suspendList);
    }
}
