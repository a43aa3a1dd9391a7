using System.Globalization;
using System.Runtime.InteropServices;
using FileAio.Cli.Platform;
using FileAio.Cli.Tests.Infrastructure;
using FileAio.Cli.Verify;

namespace FileAio.Cli.Tests;

/// <summary>The small pieces the commands are built from.</summary>
public sealed class UnitTests
{
    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("4k", 4096)]
    [InlineData("4K", 4096)]
    [InlineData("4KiB", 4096)]
    [InlineData("64kb", 65536)]
    [InlineData("1m", 1 << 20)]
    [InlineData("1g", 1L << 30)]
    [InlineData("2t", 2L << 40)]
    public void Sizes_Read_ReadsFioStyleSizes(string text, long expected)
    {
        Assert.Null(Sizes.Read(text, out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("k")]
    [InlineData("-1")]
    [InlineData("1.5m")]
    [InlineData("4x")]
    [InlineData("99999999999t")]
    public void Sizes_Read_RejectsWhatIsNotASize_QuotingIt(string text) =>
        Assert.Equal($"'{text}' is not a size (examples: 4096, 4k, 1m, 1g)", Sizes.Read(text, out _));

    [Theory]
    [InlineData(4096, "4 KiB")]
    [InlineData(4097, "4097 B")]
    [InlineData(1L << 30, "1 GiB")]
    [InlineData((10L << 20) + 1, "10485761 B")]
    public void Sizes_Format_UsesTheLargestExactUnit(long bytes, string expected) => Assert.Equal(expected, Sizes.Format(bytes));

    [Fact]
    public void MountTable_ParseLine_ReadsTypeSourceAndEscapedMountPoint()
    {
        MountTable.Mount? mount = MountTable.ParseLine(@"36 35 98:0 / /mnt/my\040disk rw,noatime master:1 - ext4 /dev/sda1 rw,errors=continue");

        Assert.NotNull(mount);
        Assert.Equal("/mnt/my disk", mount.MountPoint);
        Assert.Equal("ext4", mount.FileSystem);
        Assert.Equal("/dev/sda1", mount.Source);
        Assert.Equal("rw,noatime (rw,errors=continue)", mount.Options);
    }

    [Fact]
    public void PatternBlock_FillThenCheck_IsClean()
    {
        byte[] block = new byte[4096];
        PatternBlock.Fill(block, 8192, 42);

        Assert.Null(PatternBlock.Check(block, 8192, 42));
        Assert.True(PatternBlock.TryReadHeader(block, out PatternBlock.Header header));
        Assert.Equal(new PatternBlock.Header(8192, 42, 4096), header);
    }

    [Fact]
    public void PatternBlock_EveryBlockDiffers()
    {
        byte[] a = new byte[4096], b = new byte[4096], c = new byte[4096];
        PatternBlock.Fill(a, 0, 1);
        PatternBlock.Fill(b, 4096, 1);
        PatternBlock.Fill(c, 0, 2);

        Assert.NotEqual(a.AsSpan(PatternBlock.HeaderSize).ToArray(), b.AsSpan(PatternBlock.HeaderSize).ToArray());
        Assert.NotEqual(a.AsSpan(PatternBlock.HeaderSize).ToArray(), c.AsSpan(PatternBlock.HeaderSize).ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(33)]
    [InlineData(40)]
    [InlineData(4095)]
    public void PatternBlock_AnySingleFlippedBit_IsCaught(int position)
    {
        byte[] block = new byte[4096];
        PatternBlock.Fill(block, 4096, 7);
        block[position] ^= 0x10;

        Assert.NotNull(PatternBlock.Check(block, 4096, 7));
    }

    [Fact]
    public void ErrnoText_Describe_GivesNameTextAndNumber()
    {
        Assert.Equal("ENOENT", ErrnoText.Name(2));
        Assert.Equal("errno 4000", ErrnoText.Name(4000));
        Assert.Equal("No space left on device (ENOSPC, errno 28)", ErrnoText.Describe(28));
    }

    [Fact]
    public void StatxTimes_HasTheKernelSizeAndOffsets()
    {
        // linux/stat.h: struct statx is 256 bytes; statx_timestamp is { s64 tv_sec; u32 tv_nsec; s32 reserved }.
        Assert.Equal(256, System.Runtime.CompilerServices.Unsafe.SizeOf<StatxTimes>());
        Assert.Equal(0x14, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.Uid)));
        Assert.Equal(0x18, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.Gid)));
        Assert.Equal(0x1c, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.Mode)));
        Assert.Equal(0x28, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.Size)));
        Assert.Equal(0x40, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.AccessSeconds)));
        Assert.Equal(0x48, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.AccessNanoseconds)));
        Assert.Equal(0x70, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.ModifySeconds)));
        Assert.Equal(0x78, (int)Marshal.OffsetOf<StatxTimes>(nameof(StatxTimes.ModifyNanoseconds)));
        Assert.Equal(16, System.Runtime.CompilerServices.Unsafe.SizeOf<Timespec>());
    }

    [Fact]
    public void UnixAttributes_Read_AgreesWithCoreutilsStat()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "statx is Linux's");
        string path = Path.Combine(Path.GetTempPath(), $"fileaio-unit-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, new byte[1234]);
        try
        {
            Coreutils.Run("chmod", "2751", path);
            Coreutils.Run("touch", "-a", "-d", "@1500000000.000000001", path);
            Coreutils.Run("touch", "-m", "-d", "@1600000000.999999999", path);

            UnixAttributes attributes = UnixAttributes.Read(path);

            string[] stat = Coreutils.Run("stat", "--format=%a %u %g %s %f", path).Split(' ');
            Assert.Equal(Convert.ToInt32(stat[0], 8), attributes.PermissionBits);
            Assert.Equal(uint.Parse(stat[1], CultureInfo.InvariantCulture), attributes.Uid);
            Assert.Equal(uint.Parse(stat[2], CultureInfo.InvariantCulture), attributes.Gid);
            Assert.Equal(1234, attributes.Size);
            Assert.Equal(Convert.ToInt32(stat[4], 16), attributes.Mode); // %f: the raw mode, type bits included
            Assert.True(attributes.IsRegularFile);
            Assert.Equal((1500000000L, 1L), (attributes.Access.Seconds, attributes.Access.Nanoseconds));
            Assert.Equal((1600000000L, 999999999L), (attributes.Modification.Seconds, attributes.Modification.Nanoseconds));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ErrnoText_Constants_AreTheNumbersTheLibraryNamesSo()
    {
        System.Reflection.FieldInfo[] constants = typeof(ErrnoText).GetFields().Where(f => f.IsLiteral).ToArray();
        Assert.NotEmpty(constants);
        foreach (System.Reflection.FieldInfo constant in constants)
        {
            Assert.Equal(constant.Name, AioErrno.GetName((int)constant.GetValue(null)!));
        }
    }
}
