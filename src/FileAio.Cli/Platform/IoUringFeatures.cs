using System.Runtime.InteropServices;

namespace FileAio.Cli.Platform;

/// <summary>
/// What this kernel's io_uring offers, for <c>fileaio info</c>: the <c>IORING_FEAT_*</c> bits from
/// <c>io_uring_setup</c> and the opcodes <c>IORING_REGISTER_PROBE</c> reports (Linux 5.6+). The library probes the same
/// things internally to decide whether its engine can run; it does not publish the details, so the CLI asks the kernel
/// itself with one small ring (no mapping, no submission) and closes it at once.
/// </summary>
internal static unsafe class IoUringFeatures
{
    // Syscall numbers shared by x86-64 and arm64 (the unified table, Linux 5.1+).
    private const long SysIoUringSetup = 425;
    private const long SysIoUringRegister = 427;
    private const uint IoringRegisterProbe = 8;
    private const ushort IoUringOpSupported = 1;
    private const int ParamsSize = 120;        // sizeof(struct io_uring_params)
    private const int FeaturesOffset = 20;     // io_uring_params.features
    private const int ProbeHeaderSize = 16;    // struct io_uring_probe without ops[]
    private const int ProbeOpSize = 8;         // struct io_uring_probe_op
    private const int ProbeOps = 256;

    /// <summary>IORING_FEAT_* by bit (include/uapi/linux/io_uring.h), with the kernel that brought each.</summary>
    private static readonly string[] s_featureNames =
    [
        "SINGLE_MMAP (5.4)", "NODROP (5.5)", "SUBMIT_STABLE (5.5)", "RW_CUR_POS (5.6)", "CUR_PERSONALITY (5.6)",
        "FAST_POLL (5.7)", "POLL_32BITS (5.9)", "SQPOLL_NONFIXED (5.11)", "EXT_ARG (5.11)", "NATIVE_WORKERS (5.12)",
        "RSRC_TAGS (5.13)", "CQE_SKIP (5.17)", "LINKED_FILE (5.17)", "REG_REG_RING (6.3)", "RECVSEND_BUNDLE (6.10)",
        "MIN_TIMEOUT (6.12)", "RW_ATTR (6.14)", "NO_IOWAIT (6.15)",
    ];

    /// <summary>IORING_OP_* by number.</summary>
    private static readonly string[] s_opcodeNames =
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

    /// <summary>What the probe found.</summary>
    /// <param name="SetupErrno">0 when <c>io_uring_setup</c> worked, else its errno.</param>
    /// <param name="Features">Names of the feature bits set (unknown bits as <c>bit N</c>).</param>
    /// <param name="Opcodes">Names of the supported opcodes; null when the probe itself failed.</param>
    /// <param name="ProbeErrno">0, or the errno of <c>IORING_REGISTER_PROBE</c> (EINVAL before 5.6).</param>
    internal sealed record Report(int SetupErrno, IReadOnlyList<string> Features, IReadOnlyList<string>? Opcodes, int ProbeErrno);

    public static Report Probe()
    {
        if (!OperatingSystem.IsLinux() ||
            RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return new Report(38 /* ENOSYS */, [], null, 0);
        }

        byte* parameters = stackalloc byte[ParamsSize];
        new Span<byte>(parameters, ParamsSize).Clear();
        long fd = Libc.Syscall(SysIoUringSetup, 2, (long)parameters, 0, 0);
        if (fd < 0)
        {
            return new Report(Marshal.GetLastPInvokeError(), [], null, 0);
        }
        try
        {
            uint features = *(uint*)(parameters + FeaturesOffset);
            var featureNames = new List<string>();
            for (int bit = 0; bit < 32; bit++)
            {
                if ((features & (1u << bit)) != 0)
                {
                    featureNames.Add(bit < s_featureNames.Length ? s_featureNames[bit] : $"bit {bit}");
                }
            }

            int probeSize = ProbeHeaderSize + (ProbeOps * ProbeOpSize);
            byte* probe = stackalloc byte[probeSize];
            new Span<byte>(probe, probeSize).Clear();
            if (Libc.Syscall(SysIoUringRegister, fd, IoringRegisterProbe, (long)probe, ProbeOps) < 0)
            {
                return new Report(0, featureNames, null, Marshal.GetLastPInvokeError());
            }
            int opsLength = probe[1];
            var opcodes = new List<string>();
            for (int i = 0; i < opsLength; i++)
            {
                byte* op = probe + ProbeHeaderSize + (i * ProbeOpSize);
                ushort flags = *(ushort*)(op + 2);
                if ((flags & IoUringOpSupported) != 0)
                {
                    byte code = op[0];
                    opcodes.Add(code < s_opcodeNames.Length ? s_opcodeNames[code] : $"op {code}");
                }
            }
            return new Report(0, featureNames, opcodes, 0);
        }
        finally
        {
            Libc.Close((int)fd);
        }
    }
}
