namespace FileAio.Cli.Info;

/// <summary>io_uring as <c>fileaio info</c> shows it: the library's <see cref="IoUringCapabilities"/> in the shape the
/// text and JSON writers take, where what the kernel did not answer is null.</summary>
internal static class IoUringFeatures
{
    /// <summary>What the probe found.</summary>
    /// <param name="SetupErrno">0 when <c>io_uring_setup</c> worked, else its errno.</param>
    /// <param name="Features">Names of the feature bits set, each with the kernel that brought it (unknown bits as
    /// <c>bit N</c>).</param>
    /// <param name="Opcodes">Names of the supported opcodes; null when there was no answer (setup or the probe failed).</param>
    /// <param name="ProbeErrno">0, or the errno of <c>IORING_REGISTER_PROBE</c> (EINVAL before 5.6).</param>
    internal sealed record Report(int SetupErrno, IReadOnlyList<string> Features, IReadOnlyList<string>? Opcodes, int ProbeErrno);

    /// <summary>Asks the kernel now (the library sets up one small ring and closes it at once).</summary>
    public static Report Probe()
    {
        IoUringCapabilities kernel = IoUringCapabilities.Probe();
        bool answered = kernel.SetupErrorCode == 0 && kernel.ProbeErrorCode == 0;
        return new Report(kernel.SetupErrorCode, kernel.FeatureNames, answered ? kernel.SupportedOpcodes : null, kernel.ProbeErrorCode);
    }
}
