using System.Runtime.InteropServices;
using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// One io_uring instance and everything it shares with the kernel — the ring fd, the three mappings (SQ ring, CQ
/// ring, SQE array), the SQ and CQ indices and their barriers, the setup flags it got, and the files and buffers
/// registered with it — in the role liburing's <c>struct io_uring</c> plays. It knows the ABI and no policy: what to
/// submit, when to wait and what a completion means is <see cref="IoUringEngine"/>'s business. It is the only type
/// that calls <c>io_uring_enter</c>.
/// </summary>
/// <remarks>
/// <para>Not thread-safe, with liburing's rule: the submission side (<see cref="NextSqe"/>, <see cref="Submit"/>,
/// <see cref="TakeBack"/>) and the completion side (<see cref="CqTail"/>, <see cref="Cqe"/>, <see cref="AdvanceCq"/>,
/// <see cref="Wait"/>) may each be used by one thread at a time, concurrently with each other.
/// <see cref="SubmitAndWait"/> uses both sides: only an owner that drives the ring alone calls it.</para>
/// <para>Fields named <c>_k…</c> point into kernel-shared memory (as liburing names them). The kernel writes
/// <c>_kSqHead</c>, <c>_kCqTail</c> and <c>_kSqFlags</c>; we write <c>_kSqTail</c> and <c>_kCqHead</c>. Every access to
/// them goes through <see cref="RingBarriers"/>, with the kernel's side of each handshake named there.</para>
/// <para>No SQPOLL: the kernel reads the SQ only inside <c>io_uring_enter</c>, so between two enters the SQ head says
/// exactly which SQEs it has consumed, and SQEs it has not may be taken back.</para>
/// </remarks>
internal sealed unsafe class IoUringQueue : IDisposable
{
    private int _fd;

    /// <summary>The ring's descriptor (tests read its /proc fdinfo).</summary>
    internal int Fd => _fd;
    private void* _sqRing;
    private nuint _sqRingSize;
    private void* _cqRing;          // same as _sqRing with IORING_FEAT_SINGLE_MMAP
    private nuint _cqRingSize;
    private IoUringSqe* _sqes;
    private nuint _sqesSize;

    private uint* _kSqHead;
    private uint* _kSqTail;
    private uint* _kSqFlags;
    private uint _sqMask;
    private uint _sqTail;           // the next SQE position; published to _kSqTail before every enter

    private uint* _kCqHead;
    private uint* _kCqTail;
    private IoUringCqe* _cqes;
    private uint _cqMask;

    private int _enterFd;           // the fd, or its registered index after UseRegisteredRingFd
    private uint _enterFlags;       // IORING_ENTER_REGISTERED_RING after UseRegisteredRingFd

    private IoUringQueue()
    {
        Registered = new RegisteredResources(this);
    }

    /// <summary>
    /// Flag sets for a ring several threads drive, tried newest first; on EINVAL the next one drops one flag.
    /// SUBMIT_ALL (5.18) keeps submitting past an SQE that fails to prepare, CLAMP (5.6) lowers oversized rings
    /// instead of failing, CQSIZE (5.5) gives a CQ larger than the SQ.
    /// </summary>
    public static readonly uint[] SharedFlagSets =
    [
        IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP,
        IORING_SETUP_CQSIZE,
    ];

    /// <summary>
    /// Flag sets for a ring one thread owns: DEFER_TASKRUN (6.1) runs completion work only when the owner asks for
    /// events, so it is never interrupted for it; SINGLE_ISSUER (6.0) lets the kernel skip locking. Both bind the ring
    /// to the thread that creates it. Then the shared sets, as fallbacks for older kernels.
    /// </summary>
    public static readonly uint[] OwnedFlagSets =
    [
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL,
        .. SharedFlagSets,
    ];

    public uint Features { get; private set; }

    public uint SetupFlags { get; private set; }

    public uint SqEntries { get; private set; }

    public uint CqEntries { get; private set; }

    /// <summary>Set up with DEFER_TASKRUN: completions are posted only when the owner enters with GETEVENTS.</summary>
    public bool DefersTaskWork => (SetupFlags & IORING_SETUP_DEFER_TASKRUN) != 0;

    /// <summary>The files and buffers registered with this ring (fio's <c>--registerfiles --fixedbufs</c>).</summary>
    public RegisteredResources Registered { get; }

    /// <summary>Creates a ring with at least <paramref name="sqEntries"/> SQEs and <paramref name="cqEntries"/> CQEs,
    /// trying <paramref name="flagSets"/> in order. Returns 0, or the errno of the failing step (setup, mmap).</summary>
    public static int TryCreate(uint sqEntries, uint cqEntries, uint[] flagSets, out IoUringQueue? queue)
    {
        queue = null;
        IoUringParams p = default;
        int fd = -1, errno = Errno.EINVAL;
        foreach (uint flags in flagSets)
        {
            p = default;
            p.Flags = flags;
            p.CqEntries = cqEntries;
            long result = Syscalls.Syscall(SYS_io_uring_setup, sqEntries, (long)&p, 0, 0, 0, 0);
            if (result >= 0)
            {
                fd = (int)result;
                break;
            }
            errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINVAL)
            {
                return errno;
            }
        }
        if (fd < 0)
        {
            return errno;
        }

        var created = new IoUringQueue { _fd = fd, _enterFd = fd, Features = p.Features, SetupFlags = p.Flags };
        errno = created.Map(in p);
        if (errno != 0)
        {
            created.Dispose();
            return errno;
        }
        queue = created;
        return 0;
    }

    private int Map(in IoUringParams p)
    {
        const int Protection = Syscalls.PROT_READ | Syscalls.PROT_WRITE;
        // MAP_POPULATE: fault the pages in now, not on the first submission.
        const int Flags = Syscalls.MAP_SHARED | Syscalls.MAP_POPULATE;

        _sqRingSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(IoUringCqe);
        bool single = (p.Features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (single)
        {
            _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
        }

        _sqRing = Syscalls.Mmap(null, _sqRingSize, Protection, Flags, _fd, IORING_OFF_SQ_RING);
        if ((nint)_sqRing == Syscalls.MAP_FAILED)
        {
            _sqRing = null;
            return Marshal.GetLastPInvokeError();
        }
        if (single)
        {
            _cqRing = _sqRing;
        }
        else
        {
            _cqRing = Syscalls.Mmap(null, _cqRingSize, Protection, Flags, _fd, IORING_OFF_CQ_RING);
            if ((nint)_cqRing == Syscalls.MAP_FAILED)
            {
                _cqRing = null;
                return Marshal.GetLastPInvokeError();
            }
        }
        _sqesSize = p.SqEntries * (nuint)sizeof(IoUringSqe);
        _sqes = (IoUringSqe*)Syscalls.Mmap(null, _sqesSize, Protection, Flags, _fd, IORING_OFF_SQES);
        if ((nint)_sqes == Syscalls.MAP_FAILED)
        {
            _sqes = null;
            return Marshal.GetLastPInvokeError();
        }

        // A child created by fork (Process.Start does fork+exec) must not share these pages with the kernel's ring.
        Syscalls.Madvise(_sqRing, _sqRingSize, Syscalls.MADV_DONTFORK);
        if (!single)
        {
            Syscalls.Madvise(_cqRing, _cqRingSize, Syscalls.MADV_DONTFORK);
        }
        Syscalls.Madvise(_sqes, _sqesSize, Syscalls.MADV_DONTFORK);

        byte* sq = (byte*)_sqRing;
        _kSqHead = (uint*)(sq + p.SqOff.Head);
        _kSqTail = (uint*)(sq + p.SqOff.Tail);
        _kSqFlags = (uint*)(sq + p.SqOff.Flags);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        SqEntries = *(uint*)(sq + p.SqOff.RingEntries);
        _sqTail = *_kSqTail;
        // The SQ index array maps ring positions to SQEs; make it the identity once, as liburing does, so the SQE
        // for position t is simply _sqes[t & mask].
        uint* array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < SqEntries; i++)
        {
            array[i] = i;
        }

        byte* cq = (byte*)_cqRing;
        _kCqHead = (uint*)(cq + p.CqOff.Head);
        _kCqTail = (uint*)(cq + p.CqOff.Tail);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        CqEntries = *(uint*)(cq + p.CqOff.RingEntries);
        _cqes = (IoUringCqe*)(cq + p.CqOff.Cqes);
        return 0;
    }

    // ============================================================================================================
    // Submission side

    /// <summary>SQEs free for writing.</summary>
    public uint SqSpace => SqEntries - SqPending;

    /// <summary>SQEs written that the kernel has not consumed yet.</summary>
    public uint SqPending => _sqTail - RingBarriers.LoadAcquire(_kSqHead); // acquire: pairs with the kernel's head store after it read the SQEs

    /// <summary>The next SQE to fill (liburing's <c>io_uring_get_sqe</c>); the caller has checked
    /// <see cref="SqSpace"/>. It reaches the kernel with the next <see cref="Submit"/>.</summary>
    public IoUringSqe* NextSqe()
    {
        IoUringSqe* sqe = _sqes + (_sqTail & _sqMask);
        _sqTail++;
        return sqe;
    }

    /// <summary>Takes back the last <paramref name="count"/> SQEs written, which the kernel has not consumed (it reads
    /// the SQ only inside io_uring_enter, and none is running on this side).</summary>
    public void TakeBack(uint count)
    {
        _sqTail -= count;
        // Release: nothing to order, but the kernel must not see a tail covering SQEs we no longer stand behind.
        RingBarriers.StoreRelease(_kSqTail, _sqTail);
    }

    /// <summary>
    /// Submits every pending SQE (<c>io_uring_submit</c>). Returns how many the kernel consumed, which may be fewer
    /// than pending (EAGAIN, EBUSY: it had no room right now); when it consumed none and failed, the negated errno.
    /// Interrupted calls are repeated.
    /// </summary>
    public int Submit()
    {
        uint pending = PublishSq();
        if (pending == 0)
        {
            return 0;
        }
        while (true)
        {
            int result = Enter(pending, 0, 0, null);
            uint consumed = pending - SqPending; // what the kernel's head says, whatever the call returned
            if (consumed > 0 || result >= 0)
            {
                return (int)consumed;
            }
            if (result != -Errno.EINTR)
            {
                return result;
            }
        }
    }

    /// <summary>
    /// Submits every pending SQE and waits for <paramref name="minComplete"/> CQEs, the deadline or a signal, in one
    /// system call (<c>io_uring_submit_and_wait_timeout</c>); with a passed deadline it only submits and lets the
    /// kernel post what is ready (and run deferred completion work). For the owner of a ring that drives both sides.
    /// Returns 0 or a negated errno (ETIME, EINTR: the caller loops); SQEs not consumed stay pending.
    /// </summary>
    public int SubmitAndWait(uint minComplete, Deadline deadline)
    {
        uint pending = PublishSq();
        return Enter(pending, deadline.HasExpired ? 0 : minComplete, IORING_ENTER_GETEVENTS, deadline.HasExpired ? null : &deadline) switch
        {
            >= 0 => 0,
            int error => error,
        };
    }

    /// <summary>Release-stores our SQ tail (the kernel must see every SQE we wrote before the tail that covers it)
    /// and returns how many SQEs are pending.</summary>
    private uint PublishSq()
    {
        RingBarriers.StoreRelease(_kSqTail, _sqTail);
        return SqPending;
    }

    // ============================================================================================================
    // Completion side

    /// <summary>Our CQ head: the next CQE to read. Only the completion side stores it, so a plain read is exact.</summary>
    public uint CqHead => *_kCqHead;

    /// <summary>The kernel's CQ tail. Acquire: the CQEs up to it are fully written before we read them.</summary>
    public uint CqTail => RingBarriers.LoadAcquire(_kCqTail);

    public IoUringCqe* Cqe(uint position) => _cqes + (position & _cqMask);

    /// <summary>Hands the CQEs before <paramref name="head"/> back to the kernel. Release: our reads of them happen
    /// before the kernel may overwrite their entries.</summary>
    public void AdvanceCq(uint head) => RingBarriers.StoreRelease(_kCqHead, head);

    /// <summary>With NODROP, CQEs that found the CQ full wait in a kernel list until an enter with GETEVENTS flushes
    /// them; true when the kernel says it holds some.</summary>
    public bool CqOverflowPending
    {
        get
        {
            // Full fence: our CQ head store must be visible before we read the flag the kernel sets from it.
            RingBarriers.FullFence();
            return (RingBarriers.LoadAcquire(_kSqFlags) & IORING_SQ_CQ_OVERFLOW) != 0;
        }
    }

    /// <summary>Blocks until <paramref name="minComplete"/> new CQEs, the deadline, or a signal; 0 or a negated errno
    /// (ETIME, EINTR: the caller loops and recomputes the time left). With DEFER_TASKRUN, only the owner may call it.</summary>
    public int Wait(uint minComplete, Deadline deadline) =>
        Enter(0, minComplete, IORING_ENTER_GETEVENTS, deadline.IsInfinite ? null : &deadline) is int result and < 0 ? result : 0;

    /// <summary>Lets the kernel post what it holds without waiting: flushes the overflow list and, with
    /// DEFER_TASKRUN, runs the completion work that posts CQEs.</summary>
    public void GetEvents() => Enter(0, 0, IORING_ENTER_GETEVENTS, null);

    /// <summary><c>io_uring_enter</c>, the one call site; returns the result or a negated errno. A finite deadline
    /// travels as an IORING_ENTER_EXT_ARG timeout (Linux 5.11), relative and recomputed on every call.</summary>
    private int Enter(uint toSubmit, uint minComplete, uint flags, Deadline* deadline)
    {
        KernelTimespec timespec = default;
        IoUringGetEventsArg arg = default;
        void* argument = null;
        nuint argumentSize = 0;
        if (deadline is not null && !deadline->IsInfinite)
        {
            TimeSpan left = deadline->Remaining;
            timespec.Seconds = left.Ticks / TimeSpan.TicksPerSecond;
            timespec.Nanoseconds = left.Ticks % TimeSpan.TicksPerSecond * 100;
            arg.Ts = (ulong)&timespec;
            argument = &arg;
            argumentSize = (nuint)sizeof(IoUringGetEventsArg);
            flags |= IORING_ENTER_EXT_ARG;
        }
        long result = Syscalls.Syscall(SYS_io_uring_enter, _enterFd, toSubmit, minComplete, flags | _enterFlags, (long)argument, (long)argumentSize);
        return result >= 0 ? (int)result : -Marshal.GetLastPInvokeError();
    }

    // ============================================================================================================
    // Registration

    /// <summary><c>io_uring_register</c>; returns the result or a negated errno.</summary>
    public int Register(uint opcode, void* arg, uint count)
    {
        long result = Syscalls.Syscall(SYS_io_uring_register, _fd, opcode, (long)arg, count, 0, 0);
        return result >= 0 ? (int)result : -Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// IORING_REGISTER_SYNC_CANCEL (Linux 6.0) of the request with <paramref name="userData"/>, or with
    /// <paramref name="flags"/> (ANY, ALL) of every request, with a zero timeout: a request the kernel could only try to
    /// stop (running in io-wq) answers -ETIME at once instead of blocking the caller until it finishes — on a hung
    /// device, for ever. Returns 0 (cancelled, or finished meanwhile), -ENOENT (not found), -ETIME or another -errno.
    /// </summary>
    public int SyncCancel(ulong userData, uint flags)
    {
        IoUringSyncCancelReg reg = default;
        reg.Addr = userData;
        reg.Flags = flags;
        reg.Fd = -1;
        reg.Timeout.Seconds = 0;
        reg.Timeout.Nanoseconds = 0;
        while (true)
        {
            int result = Register(IORING_REGISTER_SYNC_CANCEL, &reg, 1);
            if (result != -Errno.EINTR)
            {
                return result;
            }
        }
    }

    /// <summary>
    /// Registers the ring fd with the calling thread (IORING_REGISTER_RING_FDS, Linux 5.18), so that its
    /// io_uring_enter calls skip the file-table lookup. The registration belongs to the calling thread's io_uring
    /// context: after this, only that thread may enter the ring, and the kernel drops the registration when the
    /// thread exits. Returns false (and changes nothing) where the kernel lacks it.
    /// </summary>
    public bool UseRegisteredRingFd()
    {
        IoUringRsrcUpdate update = new() { Offset = uint.MaxValue, Data = (ulong)_fd }; // offset -1: kernel picks
        if (Register(IORING_REGISTER_RING_FDS, &update, 1) != 1)
        {
            return false;
        }
        _enterFd = (int)update.Offset;
        _enterFlags = IORING_ENTER_REGISTERED_RING;
        return true;
    }

    /// <summary>Whether this ring is entered through a registered ring fd.</summary>
    public bool UsesRegisteredRingFd => _enterFlags != 0;

    /// <summary>Unmaps the rings, gives up the registered ring fd and closes the fd (the kernel then drops its
    /// tables), then releases what was registered. Call only once the kernel owes nothing, and for a ring with a
    /// registered ring fd on the thread that registered it.</summary>
    public void Dispose()
    {
        if (_sqes is not null)
        {
            Syscalls.Munmap(_sqes, _sqesSize);
            _sqes = null;
        }
        if (_cqRing is not null && _cqRing != _sqRing)
        {
            Syscalls.Munmap(_cqRing, _cqRingSize);
        }
        _cqRing = null;
        if (_sqRing is not null)
        {
            Syscalls.Munmap(_sqRing, _sqRingSize);
            _sqRing = null;
        }
        if (_enterFlags != 0)
        {
            // The registration holds a reference on the ring file for as long as the registering thread lives: without
            // this, closing the fd would not release the ring (nor the files and buffers registered with it) until
            // that thread exits. Called on the owning thread, the one whose table holds it.
            IoUringRsrcUpdate update = new() { Offset = (uint)_enterFd };
            Register(IORING_UNREGISTER_RING_FDS, &update, 1);
            _enterFlags = 0;
        }
        if (_fd >= 0)
        {
            Syscalls.Close(_fd);
            _fd = -1;
        }
        Registered.Release(); // after the ring is gone: the kernel's tables no longer refer to them
    }
}
