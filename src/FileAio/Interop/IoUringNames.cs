namespace FileAio.Interop;

/// <summary>
/// Names from linux/io_uring.h for what the kernel reports as numbers: the <c>IORING_FEAT_*</c> bits, with the Linux
/// version that brought each, and the <c>IORING_OP_*</c> opcodes, each without its prefix. Up to date with Linux 6.18;
/// a newer kernel's additions show as <c>bit N</c> and <c>op N</c> until they are added here.
/// </summary>
internal static class IoUringNames
{
    /// <summary><c>IORING_FEAT_*</c> by bit number.</summary>
    private static readonly string[] s_features =
    [
        "SINGLE_MMAP (5.4)", "NODROP (5.5)", "SUBMIT_STABLE (5.5)", "RW_CUR_POS (5.6)", "CUR_PERSONALITY (5.6)",
        "FAST_POLL (5.7)", "POLL_32BITS (5.9)", "SQPOLL_NONFIXED (5.11)", "EXT_ARG (5.11)", "NATIVE_WORKERS (5.12)",
        "RSRC_TAGS (5.13)", "CQE_SKIP (5.17)", "LINKED_FILE (5.17)", "REG_REG_RING (6.3)", "RECVSEND_BUNDLE (6.10)",
        "MIN_TIMEOUT (6.12)", "RW_ATTR (6.14)", "NO_IOWAIT (6.15)",
    ];

    /// <summary><c>IORING_OP_*</c> by opcode number.</summary>
    private static readonly string[] s_opcodes =
    [
        "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD", "POLL_REMOVE", "SYNC_FILE_RANGE",
        "SENDMSG", "RECVMSG", "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL", "LINK_TIMEOUT", "CONNECT",
        "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX", "READ", "WRITE", "FADVISE", "MADVISE", "SEND", "RECV",
        "OPENAT2", "EPOLL_CTL", "SPLICE", "PROVIDE_BUFFERS", "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT",
        "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT", "MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR", "GETXATTR",
        "SOCKET", "URING_CMD", "SEND_ZC", "SENDMSG_ZC", "READ_MULTISHOT", "WAITID", "FUTEX_WAIT", "FUTEX_WAKE",
        "FUTEX_WAITV", "FIXED_FD_INSTALL", "FTRUNCATE", "BIND", "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED",
        "WRITEV_FIXED", "PIPE",
    ];

    /// <summary>"EXT_ARG (5.11)" for bit 8; "bit N" for a bit newer than this table.</summary>
    public static string Feature(int bit) => bit < s_features.Length ? s_features[bit] : $"bit {bit}";

    /// <summary>"READ" for opcode 22; "op N" for an opcode newer than this table.</summary>
    public static string Opcode(int opcode) => opcode < s_opcodes.Length ? s_opcodes[opcode] : $"op {opcode}";
}
