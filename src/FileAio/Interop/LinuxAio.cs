using System.Runtime.InteropServices;

namespace FileAio.Interop;

// Linux native AIO ABI from linux/aio_abi.h: structures, commands, flags and the system call numbers of the two
// architectures FileAio runs on. Declarations only; the engine lives in Engines/LinuxAio. Sizes and offsets are pinned
// by the ABI test (iocb 64, io_event 32), and they hold on little-endian machines only (aio_key and aio_rw_flags swap
// places on big-endian ones).

/// <summary><c>struct iocb</c> (64 bytes): one request as <c>io_submit</c> reads it. The kernel writes 0 into
/// <see cref="Key"/> at submit time, so an iocb must live in writable memory, and <c>io_cancel</c> names a request by
/// the address of its iocb.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct Iocb
{
    /// <summary>Copied into the completion's <see cref="IoEvent.Data"/>.</summary>
    [FieldOffset(0)] public ulong Data;
    [FieldOffset(8)] public uint Key;
    [FieldOffset(12)] public int RwFlags;
    [FieldOffset(16)] public ushort Opcode;
    [FieldOffset(18)] public short ReqPrio;
    [FieldOffset(20)] public uint Fd;

    /// <summary>The buffer; for PREADV/PWRITEV the iovec array.</summary>
    [FieldOffset(24)] public ulong Buffer;

    /// <summary>Bytes; for PREADV/PWRITEV the number of iovecs.</summary>
    [FieldOffset(32)] public ulong Bytes;
    [FieldOffset(40)] public long Offset;

    /// <summary>Must be 0.</summary>
    [FieldOffset(48)] public ulong Reserved2;
    [FieldOffset(56)] public uint Flags;

    /// <summary>The eventfd the kernel signals when the request completes (with <see cref="LinuxAioConstants.IOCB_FLAG_RESFD"/>).</summary>
    [FieldOffset(60)] public uint ResFd;
}

/// <summary><c>struct io_event</c> (32 bytes): one completion.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct IoEvent
{
    /// <summary>The iocb's <see cref="Iocb.Data"/>.</summary>
    [FieldOffset(0)] public ulong Data;

    /// <summary>The user address of the iocb that was submitted.</summary>
    [FieldOffset(8)] public ulong Obj;

    /// <summary>Bytes transferred, or a negated errno.</summary>
    [FieldOffset(16)] public long Res;
    [FieldOffset(24)] public long Res2;
}

internal static class LinuxAioConstants
{
    public const ushort IOCB_CMD_PREAD = 0;
    public const ushort IOCB_CMD_PWRITE = 1;
    public const ushort IOCB_CMD_FSYNC = 2;
    public const ushort IOCB_CMD_FDSYNC = 3;
    public const ushort IOCB_CMD_POLL = 5;
    public const ushort IOCB_CMD_PREADV = 7;
    public const ushort IOCB_CMD_PWRITEV = 8;

    /// <summary>The header of the completion ring the kernel maps into the process at the context's address
    /// (<c>struct aio_ring</c> in fs/aio.c, not in the uapi header): head at 8, tail at 12, magic at 16.</summary>
    public const int AioRingHeadOffset = 8;
    public const int AioRingTailOffset = 12;
    public const int AioRingMagicOffset = 16;
    public const uint AIO_RING_MAGIC = 0xa10a10a1;

    public const uint IOCB_FLAG_RESFD = 1 << 0;

    /// <summary>The ceiling on events a machine's contexts may ask for together, and what they asked for.</summary>
    public const string AioMaxNrPath = "/proc/sys/fs/aio-max-nr";
    public const string AioNrPath = "/proc/sys/fs/aio-nr";
}

/// <summary>The system call numbers, which differ completely between x86-64 and arm64.</summary>
internal static class LinuxAioSyscalls
{
    private static readonly bool s_arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    public static readonly long SYS_io_setup = s_arm64 ? Arm64.IoSetup : X64.IoSetup;
    public static readonly long SYS_io_destroy = s_arm64 ? Arm64.IoDestroy : X64.IoDestroy;
    public static readonly long SYS_io_submit = s_arm64 ? Arm64.IoSubmit : X64.IoSubmit;
    public static readonly long SYS_io_cancel = s_arm64 ? Arm64.IoCancel : X64.IoCancel;
    public static readonly long SYS_io_getevents = s_arm64 ? Arm64.IoGetevents : X64.IoGetevents;

    /// <summary>x86-64's table (arch/x86/entry/syscalls/syscall_64.tbl).</summary>
    internal static class X64
    {
        public const long IoSetup = 206, IoDestroy = 207, IoGetevents = 208, IoSubmit = 209, IoCancel = 210;
    }

    /// <summary>arm64's, the generic table (include/uapi/asm-generic/unistd.h).</summary>
    internal static class Arm64
    {
        public const long IoSetup = 0, IoDestroy = 1, IoSubmit = 2, IoCancel = 3, IoGetevents = 4;
    }

    /// <summary>Whether this process's architecture is one whose numbers (and iocb byte order) are known here.</summary>
    public static bool IsKnownArchitecture =>
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
}
