using System.Runtime.InteropServices;
using FileAio.Interop;
using static FileAio.Interop.LinuxAioSyscalls;

namespace FileAio.Engines.LinuxAio;

/// <summary>
/// One Linux AIO context and the memory the kernel reads and writes for it: an iocb per slot (native memory: the kernel
/// writes into an iocb at submit, and <c>io_cancel</c> names a request by its iocb's address), the pointer list
/// <c>io_submit</c> takes, an event array for <c>io_getevents</c>, and the eventfd every request signals on
/// completion (<c>IOCB_FLAG_RESFD</c>), which is also the doorbell other threads ring. The only caller of the AIO
/// system calls; the engine above decides what goes in.
/// </summary>
/// <remarks>
/// Waiting is a <c>poll</c> on the eventfd followed by a non-blocking <c>io_getevents</c>, never a blocking
/// <c>io_getevents</c>: the kernel bumps the eventfd's counter after the event is visible, so whoever drains the
/// counter and then collects sees every completion that counter announced, and a wakeup is one write to the same fd.
/// </remarks>
internal sealed unsafe class LinuxAioQueue : IDisposable
{
    private readonly ulong _context;            // aio_context_t: the address of the kernel's ring
    private readonly Iocb* _iocbs;
    private readonly Iocb** _submitList;
    private readonly IoEvent* _events;
    private readonly int _eventFd;
    private bool _disposed;

    private LinuxAioQueue(ulong context, int capacity, int eventFd)
    {
        _context = context;
        Capacity = capacity;
        _eventFd = eventFd;
        _iocbs = (Iocb*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(Iocb)), 64);
        NativeMemory.Clear(_iocbs, (nuint)(capacity * sizeof(Iocb)));
        _submitList = (Iocb**)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(Iocb*));
        _events = (IoEvent*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoEvent));
    }

    /// <summary>Requests in flight at most: what <c>io_setup</c> was asked for (the kernel's ring is larger, but
    /// <c>io_submit</c> refuses with EAGAIN before it is full).</summary>
    public int Capacity { get; }

    /// <summary>The eventfd completions and wakeups signal.</summary>
    public int EventFd => _eventFd;

    /// <summary>Sets up a context for <paramref name="capacity"/> requests; 0, or the errno of <c>io_setup</c> (or
    /// of <c>eventfd</c>).</summary>
    public static int TryCreate(int capacity, out LinuxAioQueue? queue)
    {
        queue = null;
        if (!LinuxAioSyscalls.IsKnownArchitecture)
        {
            return Errno.ENOSYS;
        }
        ulong context = 0;
        if (Syscalls.Syscall(SYS_io_setup, capacity, (long)&context, 0, 0, 0, 0) < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        int eventFd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC | Syscalls.EFD_NONBLOCK);
        if (eventFd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            Syscalls.Syscall(SYS_io_destroy, (long)context, 0, 0, 0, 0, 0);
            return error;
        }
        queue = new LinuxAioQueue(context, capacity, eventFd);
        return 0;
    }

    /// <summary>The iocb of slot <paramref name="slot"/>.</summary>
    public Iocb* IocbOf(int slot) => _iocbs + slot;

    /// <summary>Puts slot <paramref name="slot"/>'s iocb at position <paramref name="position"/> of the next submit.</summary>
    public void List(int position, int slot) => _submitList[position] = _iocbs + slot;

    /// <summary><c>io_submit</c> of the first <paramref name="count"/> listed iocbs, from <paramref name="from"/>:
    /// how many the kernel took, in order, or a negated errno when it took none (the error of the first).</summary>
    public int Submit(int from, int count)
    {
        while (true)
        {
            long result = Syscalls.Syscall(SYS_io_submit, (long)_context, count, (long)(_submitList + from), 0, 0, 0);
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

    /// <summary>Collects the events the kernel has posted (up to <paramref name="max"/>), without waiting; the count,
    /// or a negated errno.</summary>
    public int Collect(int max)
    {
        KernelTimespec zero = default;
        while (true)
        {
            long result = Syscalls.Syscall(SYS_io_getevents, (long)_context, 0, Math.Min(max, Capacity), (long)_events, (long)&zero, 0);
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

    /// <summary>Event <paramref name="index"/> of the last <see cref="Collect"/>.</summary>
    public ref IoEvent Event(int index) => ref _events[index];

    /// <summary><c>io_cancel</c> of slot <paramref name="slot"/>'s request: 0 (cancelled, the event copied into
    /// <paramref name="result"/>: the ABI of kernels before 4.19), or a negated errno (-EINPROGRESS: cancelled, its
    /// event still comes through the ring; -EINVAL: the request cannot be cancelled, or was not found).</summary>
    public int Cancel(int slot, out IoEvent result)
    {
        IoEvent answer = default;
        long outcome = Syscalls.Syscall(SYS_io_cancel, (long)_context, (long)(_iocbs + slot), (long)&answer, 0, 0, 0);
        result = answer;
        return outcome >= 0 ? 0 : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Sleeps until the eventfd is signalled (a completion, a wakeup or a kick) or the deadline passes, then
    /// drains its counter. Returns whether it was signalled.</summary>
    public bool WaitForSignal(Deadline deadline)
    {
        var fd = new PollFd { Fd = _eventFd, Events = Syscalls.POLLIN };
        int ready = Syscalls.Poll(&fd, 1, deadline.RemainingMillisecondsRoundedUp);
        if (ready < 0 && Marshal.GetLastPInvokeError() != Errno.EINTR)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"poll on the Linux AIO eventfd failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
        }
        if (ready <= 0)
        {
            return false;
        }
        DrainSignal();
        return true;
    }

    /// <summary>Resets the eventfd's counter (non-blocking: nothing to drain is fine).</summary>
    public void DrainSignal()
    {
        ulong count;
        Syscalls.Read(_eventFd, &count, sizeof(ulong));
    }

    /// <summary>Signals the eventfd from user space (a wakeup, a kick). Any thread.</summary>
    public void Signal()
    {
        ulong one = 1;
        Syscalls.Write(_eventFd, &one, sizeof(ulong));
    }

    /// <summary><c>io_destroy</c> (which waits for every request still in the kernel), then frees the memory the kernel
    /// used and closes the eventfd.</summary>
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
