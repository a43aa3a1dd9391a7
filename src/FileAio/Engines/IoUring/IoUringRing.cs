using System.Runtime.InteropServices;
using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// One io_uring instance: the ring file descriptor and the three mappings shared with the kernel (SQ ring, CQ ring,
/// SQE array). This class is the only owner of that memory: it maps it, hands out pointers into it, and unmaps it.
/// It knows the ABI but no policy; <see cref="IoUringEngine"/> decides what to submit and reap.
/// </summary>
/// <remarks>
/// Fields named <c>k…</c> point into kernel-shared memory (as liburing names them). The kernel writes
/// <see cref="KSqHead"/>, <see cref="KCqTail"/> and <see cref="KSqFlags"/>; we write <see cref="KSqTail"/> and
/// <see cref="KCqHead"/>. Every access to them goes through <see cref="RingBarriers"/>.
/// </remarks>
internal sealed unsafe class IoUringRing : IDisposable
{
    private int _fd;
    private void* _sqRing;
    private nuint _sqRingSize;
    private void* _cqRing;          // same as _sqRing with IORING_FEAT_SINGLE_MMAP
    private nuint _cqRingSize;
    private IoUringSqe* _sqes;
    private nuint _sqesSize;

    public uint* KSqHead;
    public uint* KSqTail;
    public uint* KSqFlags;
    public uint SqMask;
    public uint SqEntries;

    public uint* KCqHead;
    public uint* KCqTail;
    public IoUringCqe* Cqes;
    public uint CqMask;
    public uint CqEntries;

    private int _enterFd;                      // the fd, or the registered index after UseRegisteredRingFd
    private uint _enterFlags;                  // IORING_ENTER_REGISTERED_RING after UseRegisteredRingFd

    public uint Features { get; private set; }
    public uint SetupFlags { get; private set; }
    public int Fd => _fd;

    private IoUringRing()
    {
    }

    /// <summary>
    /// Flag sets for a ring shared by several threads, tried newest first; on EINVAL the next one drops one flag.
    /// SUBMIT_ALL (5.18) keeps submitting past an SQE that fails to prepare, CLAMP (5.6) lowers oversized rings
    /// instead of failing, CQSIZE (5.5) gives a CQ larger than the SQ. SINGLE_ISSUER/DEFER_TASKRUN are left out on
    /// purpose: a context may be driven from several threads (SPEC §2), and those flags tie a ring to one.
    /// </summary>
    public static readonly uint[] SharedRingFlagSets =
    [
        IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP,
        IORING_SETUP_CQSIZE,
    ];

    /// <summary>
    /// Flag sets for a ring one thread owns (the async layer's ring threads): DEFER_TASKRUN (6.1) runs completion work
    /// only when the owner asks for events, so it is never interrupted for it; SINGLE_ISSUER (6.0) lets the kernel skip
    /// locking. Both need the ring to be driven by one thread only. Then the shared sets, as fallbacks.
    /// </summary>
    public static readonly uint[] OwnedRingFlagSets =
    [
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL,
        .. SharedRingFlagSets,
    ];

    /// <summary>Creates a ring shared by several threads (see <see cref="SharedRingFlagSets"/>).</summary>
    public static int TryCreate(uint sqEntries, uint cqEntries, out IoUringRing? ring) =>
        TryCreate(sqEntries, cqEntries, SharedRingFlagSets, out ring);

    /// <summary>Creates a ring with at least <paramref name="sqEntries"/> SQEs and <paramref name="cqEntries"/> CQEs,
    /// trying <paramref name="flagSets"/> in order. Returns 0, or the errno of the failing step (setup, mmap).</summary>
    public static int TryCreate(uint sqEntries, uint cqEntries, uint[] flagSets, out IoUringRing? ring)
    {
        ring = null;
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

        var created = new IoUringRing { _fd = fd, _enterFd = fd, Features = p.Features, SetupFlags = p.Flags };
        errno = created.Map(in p);
        if (errno != 0)
        {
            created.Dispose();
            return errno;
        }
        ring = created;
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
        KSqHead = (uint*)(sq + p.SqOff.Head);
        KSqTail = (uint*)(sq + p.SqOff.Tail);
        KSqFlags = (uint*)(sq + p.SqOff.Flags);
        SqMask = *(uint*)(sq + p.SqOff.RingMask);
        SqEntries = *(uint*)(sq + p.SqOff.RingEntries);
        // The SQ index array maps ring positions to SQEs; make it the identity once, as liburing does, so the SQE
        // for position t is simply _sqes[t & mask].
        uint* array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < SqEntries; i++)
        {
            array[i] = i;
        }

        byte* cq = (byte*)_cqRing;
        KCqHead = (uint*)(cq + p.CqOff.Head);
        KCqTail = (uint*)(cq + p.CqOff.Tail);
        CqMask = *(uint*)(cq + p.CqOff.RingMask);
        CqEntries = *(uint*)(cq + p.CqOff.RingEntries);
        Cqes = (IoUringCqe*)(cq + p.CqOff.Cqes);
        return 0;
    }

    /// <summary>The SQE for ring position <paramref name="position"/>.</summary>
    public IoUringSqe* Sqe(uint position) => _sqes + (position & SqMask);

    /// <summary>
    /// Registers the ring fd with the calling thread (IORING_REGISTER_RING_FDS, Linux 5.18), so that its
    /// io_uring_enter calls skip the file-table lookup. The registration belongs to the calling thread's io_uring
    /// context: after this, only that thread may call <see cref="Enter"/>, and the kernel drops the registration when
    /// the thread exits. Returns false (and changes nothing) where the kernel lacks it.
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

    /// <summary><c>io_uring_enter</c>; returns the result or a negated errno. No retry here: callers decide.</summary>
    public int Enter(uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize)
    {
        long result = Syscalls.Syscall(SYS_io_uring_enter, _enterFd, toSubmit, minComplete, flags | _enterFlags, (long)arg, (long)argSize);
        return result >= 0 ? (int)result : -Marshal.GetLastPInvokeError();
    }

    /// <summary><c>io_uring_register</c>; returns the result or a negated errno.</summary>
    public int Register(uint opcode, void* arg, uint count)
    {
        long result = Syscalls.Syscall(SYS_io_uring_register, _fd, opcode, (long)arg, count, 0, 0);
        return result >= 0 ? (int)result : -Marshal.GetLastPInvokeError();
    }

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
        if (_fd >= 0)
        {
            Syscalls.Close(_fd);
            _fd = -1;
        }
    }
}
