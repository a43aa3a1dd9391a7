using System.Runtime.InteropServices;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Real seccomp filters, as Docker's and Kubernetes' default profiles install them: a classic BPF program that makes
/// <c>io_uring_setup</c> fail with EPERM and allows everything else. For this thread only (it dies with the thread), or
/// for every thread of the process (TSYNC, for a process of its own: it cannot be removed).
/// </summary>
internal static unsafe partial class Seccomp
{
    /// <summary>io_uring_setup: 425 in the generic table that x86-64 and arm64 share for new calls.</summary>
    public const int IoUringSetup = 425;

    private const int PR_SET_NO_NEW_PRIVS = 38;
    private const long SECCOMP_SET_MODE_FILTER = 1;
    private const long SECCOMP_FILTER_FLAG_TSYNC = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFilter
    {
        public ushort Code;
        public byte Jt;
        public byte Jf;
        public uint K;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long a1, long a2, long a3);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>This thread only; needs CAP_SYS_ADMIN (no no_new_privs is set, so the rest of the process keeps its
    /// privileges).</summary>
    public static void DenyIoUringSetupOnThisThread() => Install(0);

    /// <summary>Every thread of the process, for the rest of its life (no_new_privs is set first, as an unprivileged
    /// container runtime does).</summary>
    public static void DenyIoUringSetupForTheProcess()
    {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException($"prctl(PR_SET_NO_NEW_PRIVS) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        Install(SECCOMP_FILTER_FLAG_TSYNC);
    }

    /// <summary>Calls io_uring_setup with a null parameter block: the errno says whether the filter (EPERM) or the
    /// kernel (EFAULT) answered.</summary>
    public static int ProbeIoUringSetup() => syscall(IoUringSetup, 1, 0, 0) == -1 ? Marshal.GetLastPInvokeError() : 0;

    private static void Install(long flags)
    {
        bool arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        uint auditArch = arm64 ? 0xC00000B7u : 0xC000003Eu;     // AUDIT_ARCH_AARCH64 / AUDIT_ARCH_X86_64
        long seccompSyscall = arm64 ? 277 : 317;
        const ushort LoadWord = 0x20, JumpIfEqual = 0x15, Return = 0x06;
        SockFilter* program = stackalloc SockFilter[]
        {
            new() { Code = LoadWord, K = 4 },                              // A = seccomp_data.arch
            new() { Code = JumpIfEqual, Jt = 0, Jf = 3, K = auditArch },   // another ABI: allow
            new() { Code = LoadWord, K = 0 },                              // A = seccomp_data.nr
            new() { Code = JumpIfEqual, Jt = 0, Jf = 1, K = IoUringSetup }, // io_uring_setup?
            new() { Code = Return, K = 0x00050000u | 1 },                  // SECCOMP_RET_ERRNO | EPERM
            new() { Code = Return, K = 0x7fff0000u },                      // SECCOMP_RET_ALLOW
        };
        var fprog = new SockFprog { Length = 6, Filter = program };
        if (syscall(seccompSyscall, SECCOMP_SET_MODE_FILTER, flags, (long)&fprog) != 0)
        {
            throw new InvalidOperationException($"seccomp failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
