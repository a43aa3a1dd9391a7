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
