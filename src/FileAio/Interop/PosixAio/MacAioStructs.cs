using System.Runtime.InteropServices;

namespace FileAio.Interop.PosixAio;

// macOS's POSIX AIO structures (xnu bsd/sys/aio.h, bsd/sys/signal.h), for arm64 and x86-64, which share the
// layout (aio-abi.md §4). Not run anywhere yet: the ABI tests check them against the documented header values only.

/// <summary>
/// macOS <c>struct sigevent</c> (32 bytes). The kernel accepts only SIGEV_NONE and SIGEV_SIGNAL for AIO; there is no
/// SIGEV_KEVENT and EVFILT_AIO is not implemented.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct MacSigevent
{
    [FieldOffset(0)] public int Notify;
    [FieldOffset(4)] public int Signo;
    [FieldOffset(8)] public nint Value;
    [FieldOffset(16)] public nint NotifyFunction;
    [FieldOffset(24)] public nint NotifyAttributes;
}

/// <summary>
/// macOS <c>struct aiocb</c> (80 bytes): no private fields — the kernel keys a job by the block's address, so a
/// submitted block stays at one address until <c>aio_return</c>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
internal struct MacAiocb
{
    [FieldOffset(0)] public int Fildes;

    // 4..7: padding.

    [FieldOffset(8)] public long Offset;

    [FieldOffset(16)] public nint Buf;

    [FieldOffset(24)] public nuint NBytes;

    [FieldOffset(32)] public int ReqPrio;

    // 36..39: padding.

    /// <summary><c>aio_sigevent</c>. <c>lio_listio</c> with LIO_NOWAIT overwrites it with the list's sigevent.</summary>
    [FieldOffset(40)] public MacSigevent SigEvent;

    /// <summary><c>aio_lio_opcode</c>: <see cref="MacAioConstants.LIO_READ"/> is 1 and LIO_WRITE 2.</summary>
    [FieldOffset(72)] public int LioOpcode;

    // 76..79: padding.
}
