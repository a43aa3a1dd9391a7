using System.Runtime.InteropServices;

namespace FileAio.Interop.PosixAio;

// FreeBSD's POSIX AIO and kqueue structures (sys/aio.h, sys/signal.h, sys/event.h), for LP64: amd64 and arm64
// share every size and offset (aio-abi.md §3.2). Explicit offsets make the layout readable without the header.
// Not run anywhere yet: the ABI tests check them against the documented header values only.

/// <summary>
/// FreeBSD <c>struct sigevent</c> (80 bytes): <c>sigev_notify</c> first, then <c>sigev_signo</c>, then the value —
/// another order than glibc's. For SIGEV_KEVENT the kqueue descriptor goes in the signo slot
/// (<c>sigev_notify_kqueue</c> is a macro for <c>sigev_signo</c>) and the kevent flags at 16, in the 64-byte union.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
internal struct FreeBsdSigevent
{
    /// <summary><c>sigev_notify</c>: <see cref="FreeBsdAioConstants.SIGEV_NONE"/> (0),
    /// <see cref="FreeBsdAioConstants.SIGEV_KEVENT"/>, ...</summary>
    [FieldOffset(0)] public int Notify;

    [FieldOffset(4)] public int Signo;

    /// <summary><c>sigev_notify_kqueue</c>: the kqueue that receives the EVFILT_AIO event (the same slot as
    /// <see cref="Signo"/>). A descriptor that is not a kqueue fails the submit.</summary>
    [FieldOffset(4)] public int NotifyKqueue;

    /// <summary><c>sigev_value</c>: with SIGEV_KEVENT it comes back as the event's <c>udata</c>.</summary>
    [FieldOffset(8)] public nint Value;

    /// <summary><c>sigev_notify_kevent_flags</c> (<c>_sigev_un._kevent_flags</c>, an unsigned short): extra
    /// kevent flags for the knote; only EV_CLEAR, EV_DISPATCH and EV_ONESHOT are accepted (else EINVAL). Without
    /// one of them a finished job's event fires again at every <c>kevent</c> until <c>aio_return</c>.</summary>
    [FieldOffset(16)] public ushort NotifyKeventFlags;

    /// <summary><c>sigev_notify_thread_id</c> (<c>_sigev_un._threadid</c>), for SIGEV_THREAD_ID.</summary>
    [FieldOffset(16)] public int ThreadId;

    /// <summary><c>sigev_notify_function</c>, SIGEV_THREAD (only through librt's wrappers; libc's kernel stubs
    /// reject SIGEV_THREAD with EINVAL).</summary>
    [FieldOffset(16)] public nint NotifyFunction;

    [FieldOffset(24)] public nint NotifyAttributes;

    // 16..79: the union's long __spare__[8].
}

/// <summary>
/// FreeBSD <c>struct aiocb</c> (160 bytes): <c>aio_offset</c> second (at 8) and the sigevent last (at 80). The
/// kernel keys a job by the address of the caller's block and writes its private part (56..79), so a submitted
/// block stays at one address until <c>aio_return</c> has been called for it.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 160)]
internal struct FreeBsdAiocb
{
    [FieldOffset(0)] public int Fildes;

    // 4..7: padding.

    [FieldOffset(8)] public long Offset;

    [FieldOffset(16)] public nint Buf;

    /// <summary><c>aio_iov</c>, for <c>aio_readv</c>/<c>aio_writev</c>: a macro for <c>aio_buf</c> (FreeBSD 14
    /// sys/aio.h), pointing to <c>struct iovec</c>s.</summary>
    [FieldOffset(16)] public nint Iov;

    [FieldOffset(24)] public nuint NBytes;

    /// <summary><c>aio_iovcnt</c>: a macro for <c>aio_nbytes</c>, the number of iovecs.</summary>
    [FieldOffset(24)] public nuint IovCnt;

    // 32..47: int __spare__[2], void* __spare2__.

    /// <summary><c>aio_lio_opcode</c>: <see cref="FreeBsdAioConstants.LIO_READ"/> is 2 and LIO_WRITE 1 (glibc: 0
    /// and 1).</summary>
    [FieldOffset(48)] public int LioOpcode;

    /// <summary><c>aio_reqprio</c>: ignored by the kernel.</summary>
    [FieldOffset(52)] public int ReqPrio;

    // 56..79: struct __aiocb_private { long status; long error; void* kernelinfo; }, written by the kernel.

    [FieldOffset(80)] public FreeBsdSigevent SigEvent;
}

/// <summary>
/// FreeBSD <c>struct kevent</c> (64 bytes), the layout of FreeBSD 12 and later (with <c>ext[4]</c>), which the
/// default <c>kevent</c> symbol takes; FreeBSD 11's 32-byte layout is only the old <c>kevent@FBSD_1.0</c> version.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct FreeBsdKevent
{
    /// <summary><c>ident</c>: for EVFILT_AIO the address of the caller's aiocb; for EVFILT_USER any number.</summary>
    [FieldOffset(0)] public nuint Ident;

    /// <summary><c>filter</c>: <see cref="FreeBsdAioConstants.EVFILT_AIO"/>, EVFILT_USER, ...</summary>
    [FieldOffset(8)] public short Filter;

    /// <summary><c>flags</c>: EV_* (an unsigned short).</summary>
    [FieldOffset(10)] public ushort Flags;

    /// <summary><c>fflags</c>: filter flags, such as <see cref="FreeBsdAioConstants.NOTE_TRIGGER"/>.</summary>
    [FieldOffset(12)] public uint FFlags;

    /// <summary><c>data</c> (int64): for EVFILT_AIO the job's error (0 = success); the byte count comes from
    /// <c>aio_return</c>.</summary>
    [FieldOffset(16)] public long Data;

    /// <summary><c>udata</c>: for EVFILT_AIO the aiocb's <c>sigev_value</c>.</summary>
    [FieldOffset(24)] public nint UData;

    /// <summary><c>ext[4]</c> (uint64): extensions; zero them on input.</summary>
    [FieldOffset(32)] public fixed ulong Ext[4];
}
