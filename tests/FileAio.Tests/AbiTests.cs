using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FileAio.Interop;

namespace FileAio.Tests;

/// <summary>Pins the kernel structures FileAio declares to the kernel's layout (linux/stat.h, sys/uio.h).</summary>
public sealed class AbiTests
{
    [Fact]
    public void Statx_HasTheKernelSizeAndOffsets()
    {
        Assert.Equal(256, Unsafe.SizeOf<Statx>());
        Assert.Equal(0x00, (int)Marshal.OffsetOf<Statx>(nameof(Statx.Mask)));
        Assert.Equal(0x1c, (int)Marshal.OffsetOf<Statx>(nameof(Statx.Mode)));
        Assert.Equal(0x28, (int)Marshal.OffsetOf<Statx>(nameof(Statx.Size)));
        Assert.Equal(0x88, (int)Marshal.OffsetOf<Statx>(nameof(Statx.DevMajor)));
        Assert.Equal(0x8c, (int)Marshal.OffsetOf<Statx>(nameof(Statx.DevMinor)));
        Assert.Equal(0x98, (int)Marshal.OffsetOf<Statx>(nameof(Statx.DioMemAlign)));
        Assert.Equal(0x9c, (int)Marshal.OffsetOf<Statx>(nameof(Statx.DioOffsetAlign)));
    }

    [Fact]
    public void IoUring_StructuresHaveTheKernelSizes()
    {
        Assert.Equal(120, Unsafe.SizeOf<IoUringParams>());
        Assert.Equal(40, Unsafe.SizeOf<IoSqringOffsets>());
        Assert.Equal(40, Unsafe.SizeOf<IoCqringOffsets>());
        Assert.Equal(64, Unsafe.SizeOf<IoUringSqe>());
        Assert.Equal(16, Unsafe.SizeOf<IoUringCqe>());
        Assert.Equal(24, Unsafe.SizeOf<IoUringGetEventsArg>());
        Assert.Equal(64, Unsafe.SizeOf<IoUringSyncCancelReg>());
        Assert.Equal(16, Unsafe.SizeOf<KernelTimespec>());
        Assert.Equal(16, Unsafe.SizeOf<IoUringProbeHeader>());
        Assert.Equal(8, Unsafe.SizeOf<IoUringProbeOp>());
    }

    [Fact]
    public void IoUring_FieldsSitAtTheKernelOffsets()
    {
        Assert.Equal(40, (int)Marshal.OffsetOf<IoUringParams>(nameof(IoUringParams.SqOff)));
        Assert.Equal(80, (int)Marshal.OffsetOf<IoUringParams>(nameof(IoUringParams.CqOff)));
        Assert.Equal(20, (int)Marshal.OffsetOf<IoUringParams>(nameof(IoUringParams.Features)));
        Assert.Equal(4, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.Fd)));
        Assert.Equal(8, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.Off)));
        Assert.Equal(16, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.Addr)));
        Assert.Equal(24, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.Len)));
        Assert.Equal(28, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.OpFlags)));
        Assert.Equal(32, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.UserData)));
        Assert.Equal(8, (int)Marshal.OffsetOf<IoUringCqe>(nameof(IoUringCqe.Res)));
        Assert.Equal(16, (int)Marshal.OffsetOf<IoUringGetEventsArg>(nameof(IoUringGetEventsArg.Ts)));
        Assert.Equal(16, (int)Marshal.OffsetOf<IoUringSyncCancelReg>(nameof(IoUringSyncCancelReg.Timeout)));
        Assert.Equal(32, (int)Marshal.OffsetOf<IoUringSyncCancelReg>(nameof(IoUringSyncCancelReg.Opcode)));
        Assert.Equal(1, (int)Marshal.OffsetOf<IoUringProbeHeader>(nameof(IoUringProbeHeader.OpsLen)));
        Assert.Equal(2, (int)Marshal.OffsetOf<IoUringProbeOp>(nameof(IoUringProbeOp.Flags)));
    }

    [Fact]
    public void IoVec_IsTwoWords()
    {
        Assert.Equal(2 * IntPtr.Size, Unsafe.SizeOf<IoVec>());
    }

    [Fact]
    public void ODirect_MatchesTheArchitecture()
    {
        int expected = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 or Architecture.X86 => 0x4000,
            Architecture.Arm64 or Architecture.Arm => 0x10000,
            _ => LinuxConstants.O_DIRECT,
        };
        Assert.Equal(expected, LinuxConstants.O_DIRECT);
    }
}
