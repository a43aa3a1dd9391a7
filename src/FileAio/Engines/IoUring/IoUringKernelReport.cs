using FileAio.Interop;

namespace FileAio.Engines.IoUring;

/// <summary>What the kernel itself says about io_uring, before any verdict of FileAio's (that is
/// <see cref="IoUringProbe"/>'s): whether a ring can be set up, the <c>IORING_FEAT_*</c> bits it returns, and the
/// opcodes <c>IORING_REGISTER_PROBE</c> lists.</summary>
/// <param name="SetupErrno">0 when a ring was created; else the errno of <c>io_uring_setup</c> (or of mapping the
/// ring), ENOSYS off Linux.</param>
/// <param name="Features">The <c>IORING_FEAT_*</c> bits; 0 when setup failed.</param>
/// <param name="ProbeErrno">0, or the errno of <c>IORING_REGISTER_PROBE</c> (EINVAL before Linux 5.6); 0 when setup
/// failed (there was no ring to ask).</param>
/// <param name="SupportedOpcodes">The opcodes the kernel flags as supported, in ascending order; empty when setup or
/// the probe failed.</param>
internal sealed record IoUringKernelReport(int SetupErrno, uint Features, int ProbeErrno, IReadOnlyList<byte> SupportedOpcodes)
{
    /// <summary>A plain ring: no setup flags, so that an old kernel's answer is not an EINVAL for a flag it lacks.</summary>
    private static readonly uint[] s_plainSetup = [0];

    /// <summary>Asks the kernel now, from the calling thread, with one small ring that is closed before returning.</summary>
    public static IoUringKernelReport Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new IoUringKernelReport(Errno.ENOSYS, 0, 0, []);
        }
        int errno = IoUringQueue.TryCreate(2, 2, s_plainSetup, out IoUringQueue? ring);
        if (errno != 0)
        {
            return new IoUringKernelReport(errno, 0, 0, []);
        }
        using (ring)
        {
            Span<bool> supported = stackalloc bool[OpcodeProbe.MaxOpcodes];
            errno = OpcodeProbe.Read(ring!, supported);
            var opcodes = new List<byte>();
            for (int op = 0; op < supported.Length; op++)
            {
                if (supported[op])
                {
                    opcodes.Add((byte)op);
                }
            }
            return new IoUringKernelReport(0, ring!.Features, errno, opcodes);
        }
    }
}
