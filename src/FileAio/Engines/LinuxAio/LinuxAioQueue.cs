using System.Runtime.InteropServices;
using FileAio.Interop;
using static FileAio.Interop.LinuxAioConstants;
using static FileAio.Interop.LinuxAioSyscalls;

namespace FileAio.Engines.LinuxAio;

/// <summary>
/// One Linux AIO context and the memory the kernel reads and writes for it: an iocb per slot (native memory: the kernel
/// reads an iocb at submit, and <c>io_cancel</c> names a request by its iocb's address), the pointer list
/// <c>io_submit</c> takes, an event array for <c>io_getevents</c>, and the doorbell: an eventfd that other threads
/// write, watched by an <c>IOCB_CMD_POLL</c> request of its own. The only caller of the AIO system calls; the engine
/// above decides what goes in.
/// </summary>
/// <remarks>
/// <para>Waiting is one blocking <c>io_getevents</c>, as fio's libaio engine waits: a completion ends it, and so does
/// the doorbell, whose poll request completes when the eventfd is written (a wakeup, or a kick for work handed over
/// outside the kernel). Once its event is collected, the eventfd is drained and the poll submitted again; a write
/// that lands in between makes the new poll complete at once, so no ring is lost. Requests carry no
/// <c>IOCB_FLAG_RESFD</c>: one wakeup per wave of completions, not one eventfd signal per request.</para>
/// <para>Before a non-blocking collect the ring's head and tail are read in user space (the kernel maps the ring at
/// the context's address): equal means nothing is there, and the system call is skipped. Only a hint — a stale read
/// costs one call that returns nothing, or one blocking call that returns at once.</para>
/// </remarks>
internal sealed unsafe class LinuxAioQueue : IDisposable
{
    /// <summary>The doorbell's tag in <c>aio_data</c>: no slot's tag (a slot's generation is below 2^32 - 1).</summary>
    public const ulong DoorbellTag = ulong.MaxValue;

    private readonly ulong _context;            // aio_context_t: the address of the kernel's ring
    private readonly uint* _ringHead;           // null when the ring's header is not what we know
    private readonly uint* _ringTail;
    private readonly Iocb* _iocbs;              // Capacity slots, then the doorbell's poll
    private readonly Iocb** _submitList;        // Capacity entries, then one for the doorbell
    private readonly IoEvent* _events;
    private readonly int _eventFd;
    private bool _disposed;

    private LinuxAioQueue(ulong context, int capacity, int eventFd)
    {
        _context = context;
        Capacity = capacity;
        _eventFd = eventFd;
        _iocbs = (Iocb*)NativeMemory.AlignedAlloc((nuint)((capacity + 1) * sizeof(Iocb)), 64);
        NativeMemory.Clear(_iocbs, (nuint)((capacity + 1) * sizeof(Iocb)));
        _submitList = (Iocb**)NativeMemory.AllocZeroed((nuint)(capacity + 1), (nuint)sizeof(Iocb*));
        _events = (IoEvent*)NativeMemory.AllocZeroed((nuint)(capacity + 1), (nuint)sizeof(IoEvent));
        if (*(uint*)(context + AioRingMagicOffset) == AIO_RING_MAGIC)
        {
            _ringHead = (uint*)(context + AioRingHeadOffset);
            _ringTail = (uint*)(context + AioRingTailOffset);
        }
    }

    /// <summary>Requests in flight at most (the doorbell's poll has a place of its own on top).</summary>
    public int Capacity { get; }

    /// <summary>Sets up a context for <paramref name="capacity"/> requests and arms its doorbell; 0, or the errno of the
    /// step that failed (named in <paramref name="failedStep"/>: io_setup, eventfd, or the doorbell's poll).</summary>
    public static int TryCreate(int capacity, out LinuxAioQueue? queue, out string? failedStep)
    {
        queue = null;
        failedStep = "io_setup";
        if (!LinuxAioSyscalls.IsKnownArchitecture)
        {
            return Errno.ENOSYS;
        }
        ulong context = 0;
        if (Syscalls.Syscall(SYS_io_setup, capacity + 1, (long)&context, 0, 0, 0, 0) < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        int eventFd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC | Syscalls.EFD_NONBLOCK);
        if (eventFd < 0)
        {
            failedStep = "eventfd";
            int error = Marshal.GetLastPInvokeError();
            Syscalls.Syscall(SYS_io_destroy, (long)context, 0, 0, 0, 0, 0);
            return error;
        }
        var created = new LinuxAioQueue(context, capacity, eventFd);
        int armed = created.ArmDoorbell();
        if (armed != 0)
        {
            failedStep = "IOCB_CMD_POLL";
            created.Dispose();
            return armed;
        }
        queue = created;
        failedStep = null;
        return 0;
    }

    /// <summary>The iocb of slot <paramref name="slot"/>.</summary>
    public Iocb* IocbOf(int slot) => _iocbs + slot;

    /// <summary>Puts slot <paramref name="slot"/>'s iocb at position <paramref name="position"/> of the next submit.</summary>
    public void List(int position, int slot) => _submitList[position] = _iocbs + slot;

    /// <summary><c>io_submit</c> of the first <paramref name="count"/> listed iocbs, from <paramref name="from"/>:
    /// how many the kernel took, in order, or a negated errno when it took none (the error of the first).</summary>
    public int Submit(int from, int count) => SubmitList(_submitList + from, count);

    /// <summary>Submits the doorbell's poll of the eventfd again (it completes once per ring); 0 or the errno. Its iocb
    /// and list entry are its own, so it may run beside <see cref="Submit"/>; callers serialise it among themselves
    /// (the reaper's lock).</summary>
    public int ArmDoorbell()
    {
        Iocb* poll = _iocbs + Capacity;
        *poll = default;
        poll->Data = DoorbellTag;
        poll->Opcode = IOCB_CMD_POLL;
        poll->Fd = (uint)_eventFd;
        poll->Buffer = (ushort)Syscalls.POLLIN; // a poll request's event mask travels in aio_buf
        _submitList[Capacity] = poll;
        int result = SubmitList(_submitList + Capacity, 1);
        return result == 1 ? 0 : result < 0 ? -result : Errno.EAGAIN;
    }

    private int SubmitList(Iocb** list, int count)
    {
        while (true)
        {
            long result = Syscalls.Syscall(SYS_io_submit, (long)_context, count, (long)list, 0, 0, 0);
            if (result >= 0)
            {
                return (int)result;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return -errno;
            }
        }
    }

    /// <summary>Collects up to <paramref name="max"/> events into <see cref="Event"/>: at once when
    /// <paramref name="wait"/> has expired, else sleeping until at least one comes (a completion or the doorbell) or
    /// the deadline passes. The count (0 also for a signal, after which the caller looks again), or a negated errno.</summary>
    public int Collect(int max, Deadline wait)
    {
        max = Math.Min(max, Capacity + 1);
        KernelTimespec timeout = default;
        long minimum = 0;
        if (!wait.HasExpired)
        {
            minimum = 1;
            if (!wait.IsInfinite)
            {
                TimeSpan left = wait.Remaining;
                timeout.Seconds = left.Ticks / TimeSpan.TicksPerSecond;
                timeout.Nanoseconds = left.Ticks % TimeSpan.TicksPerSecond * 100;
            }
        }
        else if (_ringHead is not null && Volatile.Read(ref *_ringHead) == Volatile.Read(ref *_ringTail))
        {
            return 0; // the ring is empty: no system call
        }
        long timeoutAddress = minimum == 1 && wait.IsInfinite ? 0 : (long)&timeout;
        long result = Syscalls.Syscall(SYS_io_getevents, (long)_context, minimum, max, (long)_events, timeoutAddress, 0);
        if (result >= 0)
        {
            return (int)result;
        }
        int errno = Marshal.GetLastPInvokeError();
        return errno == Errno.EINTR ? 0 : -errno;
    }

    /// <summary>Event <paramref name="index"/> of the last <see cref="Collect"/>.</summary>
    public ref IoEvent Event(int index) => ref _events[index];

    /// <summary><c>io_cancel</c> of slot <paramref name="slot"/>'s request. Its answer is not needed: on every kernel
    /// FileAio runs on, the request's event comes through the ring whatever io_cancel says (it copies an event back
    /// only in kernels before 3.11).</summary>
    public void Cancel(int slot)
    {
        IoEvent ignored = default;
        Syscalls.Syscall(SYS_io_cancel, (long)_context, (long)(_iocbs + slot), (long)&ignored, 0, 0, 0);
    }

    /// <summary>Resets the doorbell's counter (non-blocking: nothing to drain is fine).</summary>
    public void DrainDoorbell()
    {
        ulong count;
        Syscalls.Read(_eventFd, &count, sizeof(ulong));
    }

    /// <summary>Rings the doorbell (a wakeup, a kick). Any thread.</summary>
    public void RingDoorbell()
    {
        ulong one = 1;
        Syscalls.Write(_eventFd, &one, sizeof(ulong));
    }

    /// <summary><c>io_destroy</c> (which cancels the doorbell's poll and waits for every request still in the kernel),
    /// then frees the memory the kernel used and closes the eventfd.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Syscalls.Syscall(SYS_io_destroy, (long)_context, 0, 0, 0, 0, 0);
        Syscalls.Close(_eventFd);
        NativeMemory.AlignedFree(_iocbs);
        NativeMemory.Free(_submitList);
        NativeMemory.Free(_events);
    }
}
