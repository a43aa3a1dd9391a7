using FileAio.Engines.IoUring;
using FileAio.Interop;

namespace FileAio;

/// <summary>
/// What this machine's io_uring offers, as the kernel reports it: whether <c>io_uring_setup</c> works, the
/// <c>IORING_FEAT_*</c> bits it returns (liburing: <c>io_uring_params.features</c>), and the opcodes
/// <c>IORING_REGISTER_PROBE</c> lists (liburing: <c>io_uring_get_probe</c>; Linux 5.6). For diagnostics and for code
/// that wants to know about an opcode or feature FileAio itself does not need.
/// </summary>
/// <remarks>
/// <para>This is the kernel's answer, not FileAio's verdict: whether the <see cref="AioEngineKind.IoUring"/> engine
/// runs here (it needs the features NODROP, SUBMIT_STABLE and EXT_ARG and the opcodes NOP, READV, WRITEV, FSYNC,
/// ASYNC_CANCEL, READ and WRITE, so Linux 5.11) is <see cref="AioContext.GetLimits"/>, with the reason when not.</para>
/// <para>Threading: <see cref="Probe"/> may be called from any thread; an instance never changes. A seccomp filter
/// applies to the thread that installed it (and the threads it starts), so the answer is the calling thread's.</para>
/// </remarks>
public sealed class IoUringCapabilities
{
    private IoUringCapabilities(IoUringKernelReport report)
    {
        SetupErrorCode = report.SetupErrno;
        ProbeErrorCode = report.ProbeErrno;
        Features = report.Features;
        var features = new List<string>();
        for (int bit = 0; bit < 32; bit++)
        {
            if ((report.Features & (1u << bit)) != 0)
            {
                features.Add(IoUringNames.Feature(bit));
            }
        }
        FeatureNames = features.AsReadOnly();
        SupportedOpcodes = report.SupportedOpcodes.Select(op => IoUringNames.Opcode(op)).ToList().AsReadOnly();
    }

    /// <summary>Asks the kernel now: sets up one small ring without flags, reads its features and probes its opcodes,
    /// and closes it before returning. Each call asks again (the answer can change: <c>kernel.io_uring_disabled</c>,
    /// a seccomp filter); it costs a few system calls. Never throws for what the kernel answers.</summary>
    public static IoUringCapabilities Probe() => new(IoUringKernelReport.Read());

    /// <summary>0 when <c>io_uring_setup</c> created a ring; otherwise its errno (see <see cref="AioErrno"/>): EPERM from
    /// a seccomp filter or <c>kernel.io_uring_disabled</c>, ENOSYS from a kernel without io_uring, ENOMEM from
    /// RLIMIT_MEMLOCK before Linux 5.12. Off Linux, where io_uring does not exist, ENOSYS as Linux numbers it (38).
    /// When it is not 0, every other member is empty or 0.</summary>
    public int SetupErrorCode { get; }

    /// <summary>0 when <c>IORING_REGISTER_PROBE</c> answered (or there was no ring to ask it); otherwise its errno:
    /// EINVAL on kernels before 5.6, which have no probe. <see cref="SupportedOpcodes"/> is empty then.</summary>
    public int ProbeErrorCode { get; }

    /// <summary>The <c>IORING_FEAT_*</c> bits the kernel set (bit 0 is <c>IORING_FEAT_SINGLE_MMAP</c>, as in
    /// linux/io_uring.h).</summary>
    public uint Features { get; }

    /// <summary>The bits of <see cref="Features"/> as names without the <c>IORING_FEAT_</c> prefix, each with the Linux
    /// version that brought it, lowest bit first: <c>"SINGLE_MMAP (5.4)"</c>, …, <c>"EXT_ARG (5.11)"</c>. A bit newer
    /// than FileAio's table (Linux 6.18) is <c>"bit N"</c>.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The opcodes the kernel flags as supported, as names without the <c>IORING_OP_</c> prefix, in opcode
    /// order: <c>"NOP"</c>, <c>"READV"</c>, …, <c>"READ"</c>, <c>"WRITE"</c>, …. An opcode newer than FileAio's table
    /// (Linux 6.18) is <c>"op N"</c>.</summary>
    public IReadOnlyList<string> SupportedOpcodes { get; }
}
