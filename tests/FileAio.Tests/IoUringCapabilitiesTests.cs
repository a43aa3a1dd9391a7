using System.Numerics;
using FileAio.Engines.IoUring;
using FileAio.Interop;
using FileAio.Tests.Infrastructure;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Tests;

/// <summary><see cref="IoUringCapabilities"/> against this machine's kernel, and its name tables against the ABI
/// constants the engine uses.</summary>
public sealed class IoUringCapabilitiesTests
{
    [Fact]
    public void Probe_WhereIoUringRuns_ReportsTheFeaturesAndOpcodesTheEngineNeeds()
    {
        Assert.SkipUnless(IoUringProbe.Current.IsSupported, $"io_uring cannot run here: {IoUringProbe.Current.Reason}");

        IoUringCapabilities capabilities = IoUringCapabilities.Probe();

        Assert.Equal(0, capabilities.SetupErrorCode);
        Assert.Equal(0, capabilities.ProbeErrorCode);
        uint needed = IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_EXT_ARG;
        Assert.Equal(needed, capabilities.Features & needed);
        Assert.Equal(IoUringProbe.Current.Features, capabilities.Features); // the kernel's bits do not depend on setup flags
        Assert.Contains("NODROP (5.5)", capabilities.FeatureNames);
        Assert.Contains("SUBMIT_STABLE (5.5)", capabilities.FeatureNames);
        Assert.Contains("EXT_ARG (5.11)", capabilities.FeatureNames);
        Assert.Equal(BitOperations.PopCount(capabilities.Features), capabilities.FeatureNames.Count);
        foreach (string opcode in new[] { "NOP", "READV", "WRITEV", "FSYNC", "ASYNC_CANCEL", "READ", "WRITE" })
        {
            Assert.Contains(opcode, capabilities.SupportedOpcodes);
        }
        Assert.Equal(capabilities.SupportedOpcodes.Count, capabilities.SupportedOpcodes.Distinct().Count());
    }

    [Fact]
    public void Probe_OnLinux618_ListsTheOpcodesOfThatKernelInOpcodeOrder()
    {
        Assert.SkipUnless(IoUringProbe.Current.IsSupported, $"io_uring cannot run here: {IoUringProbe.Current.Reason}");
        Assert.SkipUnless(Environment.OSVersion.Version >= new Version(6, 18), $"needs Linux 6.18 (this is {Environment.OSVersion.Version})");

        IoUringCapabilities capabilities = IoUringCapabilities.Probe();

        // Linux 6.18 knows opcodes 0 (NOP) to 62 (PIPE) and supports each in a default build; the table ends there too.
        Assert.Equal("NOP", capabilities.SupportedOpcodes[0]);
        Assert.Equal("READ", capabilities.SupportedOpcodes[IORING_OP_READ]);
        Assert.Equal("PIPE", capabilities.SupportedOpcodes[^1]);
        Assert.Equal("NO_IOWAIT (6.15)", capabilities.FeatureNames[^1]);
    }

    [Fact]
    public void NameTables_AgreeWithTheEnginesOpcodeAndFeatureConstants()
    {
        Assert.Equal("NOP", IoUringNames.Opcode(IORING_OP_NOP));
        Assert.Equal("READV", IoUringNames.Opcode(IORING_OP_READV));
        Assert.Equal("WRITEV", IoUringNames.Opcode(IORING_OP_WRITEV));
        Assert.Equal("FSYNC", IoUringNames.Opcode(IORING_OP_FSYNC));
        Assert.Equal("READ_FIXED", IoUringNames.Opcode(IORING_OP_READ_FIXED));
        Assert.Equal("WRITE_FIXED", IoUringNames.Opcode(IORING_OP_WRITE_FIXED));
        Assert.Equal("ASYNC_CANCEL", IoUringNames.Opcode(IORING_OP_ASYNC_CANCEL));
        Assert.Equal("READ", IoUringNames.Opcode(IORING_OP_READ));
        Assert.Equal("WRITE", IoUringNames.Opcode(IORING_OP_WRITE));
        Assert.Equal("op 200", IoUringNames.Opcode(200));
        Assert.Equal("SINGLE_MMAP (5.4)", IoUringNames.Feature(BitOperations.Log2(IORING_FEAT_SINGLE_MMAP)));
        Assert.Equal("NODROP (5.5)", IoUringNames.Feature(BitOperations.Log2(IORING_FEAT_NODROP)));
        Assert.Equal("SUBMIT_STABLE (5.5)", IoUringNames.Feature(BitOperations.Log2(IORING_FEAT_SUBMIT_STABLE)));
        Assert.Equal("EXT_ARG (5.11)", IoUringNames.Feature(BitOperations.Log2(IORING_FEAT_EXT_ARG)));
        Assert.Equal("bit 31", IoUringNames.Feature(31));
    }

    [Fact]
    public void Probe_OnAThreadWhereSeccompRefusesIoUringSetup_ReportsEpermAndNothingElse()
    {
        Require.Linux();
        Require.Root(); // a filter without no_new_privs needs CAP_SYS_ADMIN
        IoUringCapabilities? blocked = null;
        Exception? failure = null;

        // The filter applies to the thread that installs it and dies with it.
        var thread = new Thread(() =>
        {
            try
            {
                Seccomp.DenyIoUringSetupOnThisThread();
                blocked = IoUringCapabilities.Probe();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();

        Assert.Null(failure);
        Assert.Equal(Errno.EPERM, blocked!.SetupErrorCode);
        Assert.Equal(0, blocked.ProbeErrorCode);
        Assert.Equal(0u, blocked.Features);
        Assert.Empty(blocked.FeatureNames);
        Assert.Empty(blocked.SupportedOpcodes);
    }
}
