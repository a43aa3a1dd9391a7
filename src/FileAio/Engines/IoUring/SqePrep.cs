using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// Fills SQEs for FileAio's operations (liburing's <c>io_uring_prep_*</c>): every field is zeroed first, then set,
/// so nothing from the entry's previous use leaks into the next one.
/// </summary>
internal static unsafe class SqePrep
{
    /// <summary>A read or write of one buffer (IORING_OP_READ / IORING_OP_WRITE, Linux 5.6).</summary>
    public static void Transfer(IoUringSqe* sqe, bool read, int fd, long offset, byte* buffer, int length, ulong userData) =>
        ReadOrWrite(sqe, read ? IORING_OP_READ : IORING_OP_WRITE, fd, offset, (ulong)buffer, (uint)length, userData);

    /// <summary>A read or write of one buffer inside a registered buffer (IORING_OP_READ_FIXED / WRITE_FIXED, 5.1):
    /// the kernel pinned its pages once, at registration, instead of on every transfer.</summary>
    public static void TransferFixed(IoUringSqe* sqe, bool read, int fd, long offset, byte* buffer, int length, ushort bufferIndex, ulong userData)
    {
        ReadOrWrite(sqe, read ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED, fd, offset, (ulong)buffer, (uint)length, userData);
        sqe->BufIndex = bufferIndex;
    }

    /// <summary>Marks the SQE's fd as an index into the ring's registered file table.</summary>
    public static void UseFixedFile(IoUringSqe* sqe, int fileIndex)
    {
        sqe->Fd = fileIndex;
        sqe->Flags |= IOSQE_FIXED_FILE;
    }

    /// <summary>A vectored read or write (IORING_OP_READV / IORING_OP_WRITEV). The kernel copies the iovec array during
    /// submission (IORING_FEAT_SUBMIT_STABLE), so it need only live until io_uring_enter returns.</summary>
    public static void TransferVectored(IoUringSqe* sqe, bool read, int fd, long offset, IoVec* vectors, int count, ulong userData) =>
        ReadOrWrite(sqe, read ? IORING_OP_READV : IORING_OP_WRITEV, fd, offset, (ulong)vectors, (uint)count, userData);

    /// <summary>The layout the read and write opcodes share: <paramref name="address"/> and <paramref name="length"/>
    /// are a buffer and its bytes, or an iovec array and its entries.</summary>
    private static void ReadOrWrite(IoUringSqe* sqe, byte opcode, int fd, long offset, ulong address, uint length, ulong userData)
    {
        *sqe = default;
        sqe->Opcode = opcode;
        sqe->Fd = fd;
        sqe->Off = (ulong)offset;
        sqe->Addr = address;
        sqe->Len = length;
        sqe->UserData = userData;
    }

    /// <summary>fsync, or fdatasync when <paramref name="dataOnly"/> (IORING_OP_FSYNC). No IOSQE_IO_DRAIN: the engines
    /// hold a flush in its <see cref="FlushScope"/> instead.</summary>
    public static void Fsync(IoUringSqe* sqe, int fd, bool dataOnly, ulong userData)
    {
        *sqe = default;
        sqe->Opcode = IORING_OP_FSYNC;
        sqe->Fd = fd;
        sqe->OpFlags = dataOnly ? IORING_FSYNC_DATASYNC : 0;
        sqe->UserData = userData;
    }

    /// <summary>Asks the kernel to cancel the request with <paramref name="target"/> as user_data, or with
    /// <paramref name="flags"/> (ANY, ALL) every request (IORING_OP_ASYNC_CANCEL).</summary>
    public static void Cancel(IoUringSqe* sqe, ulong target, uint flags, ulong userData)
    {
        *sqe = default;
        sqe->Opcode = IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->Addr = target;
        sqe->OpFlags = flags;
        sqe->UserData = userData;
    }

    public static void Nop(IoUringSqe* sqe, ulong userData)
    {
        *sqe = default;
        sqe->Opcode = IORING_OP_NOP;
        sqe->UserData = userData;
    }
}
