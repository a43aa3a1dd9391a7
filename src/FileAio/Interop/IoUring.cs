using System.Runtime.InteropServices;

namespace FileAio.Interop;

// io_uring ABI from linux/io_uring.h: structures, flags, opcodes. Declarations only; the ring logic lives in
// Engines/IoUring. Sizes and offsets are pinned by the ABI test (params 120, SQE 64, CQE 16).

/// <summary><c>struct io_sqring_offsets</c>: where the SQ ring's fields sit inside its mapping (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoSqringOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Flags;
    public uint Dropped;
    public uint Array;
    public uint Resv1;
    public ulong UserAddr;
}

/// <summary><c>struct io_cqring_offsets</c>: where the CQ ring's fields sit inside its mapping (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoCqringOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Overflow;
    public uint Cqes;
    public uint Flags;
    public uint Resv1;
    public ulong UserAddr;
}

/// <summary><c>struct io_uring_params</c> (120 bytes): filled in by the caller, completed by <c>io_uring_setup</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public fixed uint Resv[3];
    public IoSqringOffsets SqOff;
    public IoCqringOffsets CqOff;
}

/// <summary><c>struct io_uring_sqe</c> (64 bytes), with the union members FileAio uses.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct IoUringSqe
{
    [FieldOffset(0)] public byte Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Off;
    [FieldOffset(16)] public ulong Addr;
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint OpFlags;      // rw_flags, fsync_flags, cancel_flags...
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufIndex;
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int SpliceFdIn;    // also file_index
    [FieldOffset(48)] public ulong Addr3;
    [FieldOffset(56)] public ulong Pad2;
}

/// <summary><c>struct io_uring_cqe</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCqe
{
    public ulong UserData;
    public int Res;
    public uint Flags;
}

/// <summary><c>struct __kernel_timespec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KernelTimespec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary><c>struct io_uring_getevents_arg</c> (24 bytes), passed with <c>IORING_ENTER_EXT_ARG</c> (Linux 5.11).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringGetEventsArg
{
    public ulong SigMask;
    public uint SigMaskSize;
    public uint MinWaitUsec;
    public ulong Ts;
}

/// <summary><c>struct io_uring_sync_cancel_reg</c> (64 bytes), for <c>IORING_REGISTER_SYNC_CANCEL</c> (Linux 6.0).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct IoUringSyncCancelReg
{
    [FieldOffset(0)] public ulong Addr;
    [FieldOffset(8)] public int Fd;
    [FieldOffset(12)] public uint Flags;
    [FieldOffset(16)] public KernelTimespec Timeout;
    [FieldOffset(32)] public byte Opcode;
}

/// <summary><c>struct io_uring_rsrc_update</c> (16 bytes), as used by <c>IORING_REGISTER_RING_FDS</c> (Linux 5.18).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRsrcUpdate
{
    public uint Offset;
    public uint Resv;
    public ulong Data;
}

/// <summary><c>struct io_uring_rsrc_register</c> (32 bytes): registers a (sparse) table of files or buffers.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRsrcRegister
{
    public uint Nr;
    public uint Flags;
    public ulong Resv2;
    public ulong Data;
    public ulong Tags;
}

/// <summary><c>struct io_uring_rsrc_update2</c> (32 bytes): fills entries of a registered table.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRsrcUpdate2
{
    public uint Offset;
    public uint Resv;
    public ulong Data;
    public ulong Tags;
    public uint Nr;
    public uint Resv2;
}

/// <summary><c>struct io_uring_probe</c> without its trailing <c>ops[]</c> (16 bytes): what
/// <c>IORING_REGISTER_PROBE</c> (Linux 5.6) fills in, followed in memory by <see cref="OpsLen"/>
/// <see cref="IoUringProbeOp"/> entries, one per opcode from 0 on.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringProbeHeader
{
    public byte LastOp;         // the highest opcode this kernel knows
    public byte OpsLen;         // entries filled in after the header
    public ushort Resv;
    public fixed uint Resv2[3];
}

/// <summary><c>struct io_uring_probe_op</c> (8 bytes): one opcode, with <see cref="IoUringConstants.IO_URING_OP_SUPPORTED"/>
/// in <see cref="Flags"/> when the kernel supports it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringProbeOp
{
    public byte Op;
    public byte Resv;
    public ushort Flags;
    public uint Resv2;
}

/// <summary>Constants of linux/io_uring.h.</summary>
internal static class IoUringConstants
{
    // System call numbers: the same on x86-64 and arm64 (the unified table from Linux 5.1 on).
    public const long SYS_io_uring_setup = 425;
    public const long SYS_io_uring_enter = 426;
    public const long SYS_io_uring_register = 427;

    // mmap offsets of the three regions.
    public const long IORING_OFF_SQ_RING = 0;
    public const long IORING_OFF_CQ_RING = 0x8000000;
    public const long IORING_OFF_SQES = 0x10000000;

    // io_uring_setup flags.
    public const uint IORING_SETUP_CQSIZE = 1u << 3;
    public const uint IORING_SETUP_CLAMP = 1u << 4;
    public const uint IORING_SETUP_SUBMIT_ALL = 1u << 7;
    public const uint IORING_SETUP_COOP_TASKRUN = 1u << 8;
    public const uint IORING_SETUP_SINGLE_ISSUER = 1u << 12;
    public const uint IORING_SETUP_DEFER_TASKRUN = 1u << 13;

    // Features reported back in params.features.
    public const uint IORING_FEAT_SINGLE_MMAP = 1u << 0;
    public const uint IORING_FEAT_NODROP = 1u << 1;
    public const uint IORING_FEAT_SUBMIT_STABLE = 1u << 2;
    public const uint IORING_FEAT_EXT_ARG = 1u << 8;

    // io_uring_enter flags.
    public const uint IORING_ENTER_GETEVENTS = 1u << 0;
    public const uint IORING_ENTER_EXT_ARG = 1u << 3;
    public const uint IORING_ENTER_REGISTERED_RING = 1u << 4;

    // SQ ring flags (read from the kernel's sq_flags word).
    public const uint IORING_SQ_NEED_WAKEUP = 1u << 0;
    public const uint IORING_SQ_CQ_OVERFLOW = 1u << 1;
    public const uint IORING_SQ_TASKRUN = 1u << 2;

    // SQE flags.
    public const byte IOSQE_FIXED_FILE = 1 << 0;
    public const byte IOSQE_IO_DRAIN = 1 << 1;
    public const byte IOSQE_IO_LINK = 1 << 2;

    // Opcodes.
    public const byte IORING_OP_NOP = 0;
    public const byte IORING_OP_READV = 1;
    public const byte IORING_OP_WRITEV = 2;
    public const byte IORING_OP_FSYNC = 3;
    public const byte IORING_OP_READ_FIXED = 4;
    public const byte IORING_OP_WRITE_FIXED = 5;
    public const byte IORING_OP_ASYNC_CANCEL = 14;
    public const byte IORING_OP_READ = 22;
    public const byte IORING_OP_WRITE = 23;

    public const uint IORING_FSYNC_DATASYNC = 1u << 0;

    // Cancel flags (IORING_OP_ASYNC_CANCEL and IORING_REGISTER_SYNC_CANCEL); 0 matches on user_data.
    public const uint IORING_ASYNC_CANCEL_ALL = 1u << 0;
    public const uint IORING_ASYNC_CANCEL_ANY = 1u << 2;

    // io_uring_register opcodes.
    public const uint IORING_REGISTER_PROBE = 8;
    public const uint IORING_REGISTER_SYNC_CANCEL = 24;
    public const uint IORING_REGISTER_RING_FDS = 20;
    public const uint IORING_UNREGISTER_RING_FDS = 21;
    public const uint IORING_REGISTER_FILES2 = 13;
    public const uint IORING_REGISTER_FILES_UPDATE2 = 14;
    public const uint IORING_REGISTER_BUFFERS2 = 15;
    public const uint IORING_REGISTER_BUFFERS_UPDATE = 16;

    /// <summary>Register an empty table of the given size, to fill entry by entry (Linux 5.19).</summary>
    public const uint IORING_RSRC_REGISTER_SPARSE = 1u << 0;

    /// <summary>Set in <c>io_uring_probe_op.flags</c> for an opcode the kernel supports.</summary>
    public const ushort IO_URING_OP_SUPPORTED = 1;
}
