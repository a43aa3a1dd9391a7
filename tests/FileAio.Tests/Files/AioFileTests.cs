using System.Globalization;
using FileAio.Buffers;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Files;

public sealed class AioFileTests : FileAioTest
{
    /// <summary>The open flags of a descriptor as the kernel reports them in /proc/self/fdinfo (octal), read
    /// independently of the library's own fcntl call.</summary>
    private static int KernelFlagsOf(SafeFileHandle handle)
    {
        string fdinfo = File.ReadAllText($"/proc/self/fdinfo/{handle.DangerousGetHandle()}");
        string flags = fdinfo.Split('\n').First(l => l.StartsWith("flags:", StringComparison.Ordinal))[6..].Trim();
        return Convert.ToInt32(flags, 8);
    }

    [Fact]
    public void OpenHandle_Direct_TurnsOnODirectInTheKernel()
    {
        Require.Linux();
        string path = CreatePatternFile("d.bin", 8192);
        SafeFileHandle direct = Open(path, FileMode.Open, FileAccess.Read, direct: true);
        SafeFileHandle cached = Open(path, FileMode.Open, FileAccess.Read, direct: false);
        Assert.NotEqual(0, KernelFlagsOf(direct) & Interop.LinuxConstants.O_DIRECT);
        Assert.Equal(0, KernelFlagsOf(cached) & Interop.LinuxConstants.O_DIRECT);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_WriteThrough_TurnsOnOSyncInTheKernel_AndWritesStillWork(bool direct)
    {
        Require.Linux();
        const int O_SYNC = 0x101000; // __O_SYNC | O_DSYNC, the same on x86-64 and arm64
        string path = CreatePatternFile("w.bin", 8192);
        await using AioFile through = AioFile.Open(path, FileMode.Open, FileAccess.ReadWrite,
            new AioFileOptions { WriteThrough = true, Direct = direct });
        await using AioFile plain = AioFile.Open(path, FileMode.Open, FileAccess.Read, new AioFileOptions { Direct = direct });
        Assert.Equal(O_SYNC, KernelFlagsOf(through.Handle) & O_SYNC);
        Assert.Equal(0, KernelFlagsOf(plain.Handle) & O_SYNC);

        using var buffer = new AlignedBuffer(4096);
        buffer.Memory.Span.Fill(0x5A);
        Assert.Equal(4096, await through.WriteAsync(buffer.Memory, 4096));
        var back = new byte[4096];
        Assert.Equal(4096, RandomAccess.Read(Open(path, FileMode.Open, FileAccess.Read), back, 4096));
        Assert.All(back, b => Assert.Equal(0x5A, b));
    }

    [Fact]
    public void OpenHandle_BadArguments_ThrowLikeDotNet()
    {
        Assert.Throws<ArgumentException>(() => AioFile.OpenHandle("", FileMode.Open, FileAccess.Read));
        Assert.Throws<ArgumentNullException>(() => AioFile.OpenHandle(null!, FileMode.Open, FileAccess.Read));
        Assert.Throws<FileNotFoundException>(() => AioFile.OpenHandle(PathOf("missing"), FileMode.Open, FileAccess.Read, direct: true));
    }

    [Fact]
    public void GetAlignment_IsTheKernelsRule_AlignedWorksAndHalfAlignedIsRefused()
    {
        Require.Linux();
        string path = CreatePatternFile("a.bin", 1 << 20);
        SafeFileHandle file = Open(path, FileMode.Open, FileAccess.Read, direct: true);
        AioAlignment alignment = AioFile.GetAlignment(file);

        Assert.True(alignment.SupportsDirectIo);
        Assert.True(int.IsPow2(alignment.MemoryAlignment), $"memory alignment {alignment.MemoryAlignment}");
        Assert.True(int.IsPow2(alignment.OffsetAlignment), $"offset alignment {alignment.OffsetAlignment}");
        Assert.Equal(alignment.OffsetAlignment, alignment.LengthAlignment);

        // Ask the kernel directly (RandomAccess, bypassing FileAio's own checks): the reported alignment must work...
        using var buffer = new AlignedBuffer(2 * 65536, 65536);
        int aligned = RandomAccess.Read(file, buffer.Memory.Span[..alignment.OffsetAlignment], alignment.OffsetAlignment);
        Assert.Equal(alignment.OffsetAlignment, aligned);
        // ...and half of it, where the rule is more than one byte, must be refused by the kernel (EINVAL).
        if (alignment.OffsetAlignment > 1)
        {
            var e = Assert.Throws<IOException>(() => RandomAccess.Read(file, buffer.Memory.Span[..alignment.OffsetAlignment], alignment.OffsetAlignment / 2));
            Assert.Contains("Invalid argument", e.Message);
        }
    }

    [Fact]
    public void GetAlignment_OnExt4_ComesFromStatxAndMatchesTheDeviceBlockSize()
    {
        Require.Linux();
        string path = CreatePatternFile("b.bin", 4096);
        SafeFileHandle file = Open(path);
        AioAlignment alignment = AioFile.GetAlignment(file);
        // This kernel answers STATX_DIOALIGN for ext4; the offset rule is then the device's logical block size.
        string? blockSizeFile = FindLogicalBlockSizeFile(path);
        Assert.SkipWhen(blockSizeFile is null, "The temp directory is not on a block device.");
        int logical = int.Parse(File.ReadAllText(blockSizeFile!).Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(AioAlignmentSource.Statx, alignment.Source);
        Assert.Equal(logical, alignment.OffsetAlignment);
    }

    [Fact]
    public void GetAlignment_ClosedHandle_Throws()
    {
        SafeFileHandle file = Open(CreatePatternFile("c.bin", 10));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => AioFile.GetAlignment(file));
        Assert.Throws<ArgumentNullException>(() => AioFile.GetAlignment(null!));
    }

    private static string? FindLogicalBlockSizeFile(string path)
    {
        // /proc/self/mountinfo gives the device major:minor of the file system holding the path.
        string? best = null;
        string? device = null;
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] fields = line.Split(' ');
            string mountPoint = fields[4];
            if (path.StartsWith(mountPoint, StringComparison.Ordinal) && (best is null || mountPoint.Length > best.Length))
            {
                best = mountPoint;
                device = fields[2];
            }
        }
        foreach (string candidate in new[] { $"/sys/dev/block/{device}/queue/logical_block_size", $"/sys/dev/block/{device}/../queue/logical_block_size" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
