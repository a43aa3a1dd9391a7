using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>What this machine's io_uring can do, learned by trying (a small ring, the opcode probe, a sync-cancel
/// probe), never from the kernel version.</summary>
/// <param name="IsSupported">A context can use io_uring here.</param>
/// <param name="Reason">Why not, with the errno and the likely cause; null when supported.</param>
/// <param name="HasSyncCancel"><c>IORING_REGISTER_SYNC_CANCEL</c> works (Linux 6.0); otherwise cancel goes through
/// <c>IORING_OP_ASYNC_CANCEL</c>.</param>
/// <param name="Features">The <c>IORING_FEAT_*</c> bits the kernel reported.</param>
/// <param name="SetupFlags">The setup flags the kernel accepted.</param>
internal sealed record IoUringSupport(bool IsSupported, string? Reason, bool HasSyncCancel, uint Features, uint SetupFlags)
{
    public static IoUringSupport Unsupported(string reason) => new(false, reason, false, 0, 0);
}

internal static unsafe class IoUringProbe
{
    private static IoUringSupport? s_cached;

    /// <summary>Opcodes every context needs, with the kernel that brought each.</summary>
    private static readonly (byte Opcode, string Name)[] s_requiredOpcodes =
    [
        (IORING_OP_NOP, "NOP (5.1)"),
        (IORING_OP_READV, "READV (5.1)"),
        (IORING_OP_WRITEV, "WRITEV (5.1)"),
        (IORING_OP_FSYNC, "FSYNC (5.1)"),
        (IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL (5.5)"),
        (IORING_OP_READ, "READ (5.6)"),
        (IORING_OP_WRITE, "WRITE (5.6)"),
    ];

    /// <summary>The answer for this process, probed once.</summary>
    public static IoUringSupport Current => s_cached ??= Run();

    /// <summary>Forgets the cached answer (tests that block io_uring on one thread and probe again).</summary>
    internal static void ResetCache() => s_cached = null;

    /// <summary>Probes now, from the calling thread, without the cache.</summary>
    public static IoUringSupport Run()
    {
        if (!OperatingSystem.IsLinux())
        {
            return IoUringSupport.Unsupported("io_uring exists only on Linux.");
        }

        int errno = IoUringQueue.TryCreate(4, 8, IoUringQueue.SharedFlagSets, out IoUringQueue? ring);
        if (errno != 0)
        {
            return IoUringSupport.Unsupported(DescribeSetupError(errno));
        }
        using (ring)
        {
            uint needed = IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_EXT_ARG;
            if ((ring!.Features & needed) != needed)
            {
                return IoUringSupport.Unsupported(
                    $"The kernel's io_uring lacks features FileAio needs (NODROP and SUBMIT_STABLE, Linux 5.5; EXT_ARG, Linux 5.11): it reports 0x{ring.Features:x}.");
            }

            string? missing = FindMissingOpcode(ring);
            if (missing is not null)
            {
                return IoUringSupport.Unsupported(missing);
            }

            return new IoUringSupport(true, null, HasSyncCancel(ring), ring.Features, ring.SetupFlags);
        }
    }

    /// <summary>The kernel's setup errors, each with its cause and what to do about it.</summary>
    internal static string DescribeSetupError(int errno) => errno switch
    {
        Errno.EPERM => "io_uring_setup was refused (EPERM): " + DescribePermissionBlock(),
        Errno.ENOSYS => "io_uring_setup does not exist (ENOSYS): the kernel is older than 5.1 or built without CONFIG_IO_URING.",
        Errno.ENOMEM => "io_uring_setup could not allocate the rings (ENOMEM): on kernels before 5.12 raise RLIMIT_MEMLOCK (ulimit -l).",
        Errno.EINVAL => "io_uring_setup rejected every flag set FileAio tried (EINVAL): the kernel's io_uring is too old (Linux 5.5+ needed).",
        _ => $"io_uring_setup failed with errno {errno}.",
    };

    private static string DescribePermissionBlock()
    {
        try
        {
            string disabled = File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim();
            if (disabled == "2")
            {
                return "io_uring is switched off for every process (sysctl kernel.io_uring_disabled=2).";
            }
            if (disabled == "1")
            {
                return "io_uring is limited to privileged processes and members of kernel.io_uring_group (sysctl kernel.io_uring_disabled=1).";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return "a seccomp filter or security policy blocks it (container runtimes often do).";
    }

    private static string? FindMissingOpcode(IoUringQueue ring)
    {
        Span<bool> supported = stackalloc bool[OpcodeProbe.MaxOpcodes];
        int errno = OpcodeProbe.Read(ring, supported);
        if (errno != 0)
        {
            return $"IORING_REGISTER_PROBE failed (errno {errno}): the kernel is older than 5.6.";
        }
        foreach ((byte opcode, string name) in s_requiredOpcodes)
        {
            if (!supported[opcode])
            {
                return $"The kernel's io_uring does not support IORING_OP_{name}.";
            }
        }
        return null;
    }

    /// <summary>Asks to cancel a request that does not exist: ENOENT means the kernel knows the operation (6.0+).</summary>
    private static bool HasSyncCancel(IoUringQueue ring)
    {
        IoUringSyncCancelReg reg = default;
        reg.Addr = ulong.MaxValue;
        reg.Timeout.Seconds = -1;
        reg.Timeout.Nanoseconds = -1;
        return ring.Register(IORING_REGISTER_SYNC_CANCEL, &reg, 1) == -Errno.ENOENT;
    }
}
