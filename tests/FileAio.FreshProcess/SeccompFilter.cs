using System.Runtime.InteropServices;

namespace FileAio.FreshProcess;

/// <summary>
/// A real seccomp filter, as Docker's and Kubernetes' default profiles install one: a classic BPF program that makes
/// <c>io_uring_setup</c> fail with EPERM and allows everything else, applied to every thread of the process (TSYNC).
/// It cannot be removed; only a process of its own may install it.
/// </summary>
internal static unsafe partial class SeccompFilter
{
    private const int PR_SET_NO_NEW_PRIVS = 38;
    private const uint SECCOMP_SET_MODE_FILTER = 1;
    private const uint SECCOMP_FILTER_FLAG_TSYNC = 1;
    private const uint SECCOMP_RET_ALLOW = 0x7fff_0000;
    private const uint SECCOMP_RET_ERRNO = 0x0005_0000;
    private const uint EPERM = 1;

    // Classic BPF opcodes: load a word at an absolute offset of struct seccomp_data, jump if equal, return.
    private const ushort BPF_LD_W_ABS = 0x20;
    private const ushort BPF_JMP_JEQ_K = 0x15;
    private const ushort BPF_RET_K = 0x06;

    // struct seccomp_data: int nr at 0, __u32 arch at 4.
    private const uint OffsetOfNr = 0;
    private const uint OffsetOfArch = 4;

    /// <summary>io_uring_setup: 425 in the generic table that x86-64 and arm64 share for new calls.</summary>
    public const int IoUringSetup = 425;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFilter
    {
        public ushort Code;
        public byte JumpTrue;
        public byte JumpFalse;
        public uint K;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nuint arg1, nuint arg2, void* arg3);

    /// <summary>Installs the filter for the whole process: from now on io_uring_setup answers EPERM.</summary>
    public static void DenyIoUringSetup()
    {
        (uint arch, long seccompSyscall) = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => (0xC000_003Eu, 317L),   // AUDIT_ARCH_X86_64, __NR_seccomp
            Architecture.Arm64 => (0xC000_00B7u, 277L), // AUDIT_ARCH_AARCH64, __NR_seccomp
            var other => throw new PlatformNotSupportedException($"No seccomp filter written for {other}."),
        };
        SockFilter* program = stackalloc SockFilter[]
        {
            new() { Code = BPF_LD_W_ABS, K = OffsetOfArch },
            new() { Code = BPF_JMP_JEQ_K, JumpTrue = 1, JumpFalse = 0, K = arch }, // another ABI (x32, compat): allow
            new() { Code = BPF_RET_K, K = SECCOMP_RET_ALLOW },
            new() { Code = BPF_LD_W_ABS, K = OffsetOfNr },
            new() { Code = BPF_JMP_JEQ_K, JumpTrue = 0, JumpFalse = 1, K = IoUringSetup },
            new() { Code = BPF_RET_K, K = SECCOMP_RET_ERRNO | EPERM },
            new() { Code = BPF_RET_K, K = SECCOMP_RET_ALLOW },
        };
        var fprog = new SockFprog { Length = 7, Filter = program };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException($"prctl(PR_SET_NO_NEW_PRIVS) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        if (syscall(seccompSyscall, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog) != 0)
        {
            throw new InvalidOperationException($"seccomp(SET_MODE_FILTER, TSYNC) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Calls io_uring_setup with bad arguments: EPERM when the filter holds, EFAULT/EINVAL when the kernel
    /// itself looked at them.</summary>
    public static int ProbeIoUringSetup()
    {
        long result = syscall(IoUringSetup, 1, 0, null);
        return result == -1 ? Marshal.GetLastPInvokeError() : 0;
    }
}
