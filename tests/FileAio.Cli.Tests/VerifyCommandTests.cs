using FileAio.Cli.Tests.Infrastructure;
using FileAio.Testing;

namespace FileAio.Cli.Tests;

public sealed class VerifyCommandTests : CliTest
{
    private const int BlockSize = 4096;

    [Theory]
    [InlineData(false, "auto")]
    [InlineData(true, "auto")]
    [InlineData(true, "threadpool")]
    public void Verify_WriteThenReadBack_ReportsCleanAndExitsZero(bool direct, string engine)
    {
        CliRun run = Run([.. new[] { "verify", PathOf("pattern"), "--size", "1m", "--bs", "4k", "--engine", engine }, .. direct ? new[] { "--direct" } : []]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("clean: all 256 blocks", run.Output);
        Assert.Equal(1 << 20, new FileInfo(PathOf("pattern")).Length);
    }

    [Fact]
    public void Verify_ReadOnlyOnIntactFile_FindsBlockSizeAndSeedAndExitsZero()
    {
        WritePattern(seed: "0x1234");

        CliRun run = Run("verify", PathOf("pattern"), "--read-only", "--direct");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("seed 0x1234", run.Output);
        Assert.Contains("64 blocks of 4 KiB", run.Output);
    }

    [Fact]
    public void Verify_SingleFlippedByte_ReportsThatBlockAndExitsOne()
    {
        WritePattern();
        FlipByte(PathOf("pattern"), (3 * BlockSize) + 100);

        CliRun run = Run("verify", PathOf("pattern"), "--read-only");

        Assert.Equal(1, run.ExitCode);
        string[] bad = BadLines(run);
        string line = Assert.Single(bad);
        Assert.StartsWith($"bad block at offset {3 * BlockSize} ", line);
        Assert.Contains("checksum mismatch", line);
        Assert.Contains("1 byte differs from the pattern, first at +100", line);
        Assert.Contains("CORRUPT: 1 of 64 blocks", run.Output);
    }

    [Fact]
    public void Verify_FlippedByteInTheHeader_IsCaught()
    {
        WritePattern();
        FlipByte(PathOf("pattern"), (7 * BlockSize) + 9); // inside the stored offset

        CliRun run = Run("verify", PathOf("pattern"), "--read-only");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"bad block at offset {7 * BlockSize} ", Assert.Single(BadLines(run)));
    }

    [Fact]
    public void Verify_BlockWrittenAtTheWrongOffset_ReportsWhereItBelongs()
    {
        WritePattern();
        string path = PathOf("pattern");
        byte[] block = new byte[BlockSize];
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 2 * BlockSize;
            file.ReadExactly(block);
            file.Position = 5 * BlockSize;
            file.Write(block); // block 2's content, shifted three blocks on
        }

        CliRun run = Run("verify", path, "--read-only");

        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(BadLines(run));
        Assert.StartsWith($"bad block at offset {5 * BlockSize} ", line);
        Assert.Contains($"holds the block written for offset {2 * BlockSize}", line);
        Assert.Contains($"misplaced by +{3 * BlockSize} bytes", line);
    }

    [Fact]
    public void Verify_ZeroedBlockAndTruncatedTail_AreBothReported()
    {
        WritePattern();
        string path = PathOf("pattern");
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 10 * BlockSize;
            file.Write(new byte[BlockSize]);
            file.SetLength((63 * BlockSize) + 100);
        }

        CliRun run = Run("verify", path, "--read-only");

        Assert.Equal(1, run.ExitCode);
        string[] bad = BadLines(run);
        Assert.Equal(2, bad.Length);
        Assert.Contains("all zeros", bad[0]);
        Assert.Contains("partial block", bad[1]);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("threadpool")]
    public void Verify_UnreadableBlocks_AreReportedAndEveryOtherBlockIsStillChecked(string engine)
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        WritePattern();
        FlipByte(PathOf("pattern"), (20 * BlockSize) + 50); // a corrupt block after the unreadable ones
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(PathOf("pattern"), PathOf("faultfs"),
            ((3 * BlockSize) + 10, (3 * BlockSize) + 11), (9 * BlockSize, 10 * BlockSize));

        CliRun run = Run("verify", faulty.FilePath, "--read-only", "--engine", engine);

        Assert.Equal(1, run.ExitCode);
        string[] bad = BadLines(run);
        Assert.Equal(3, bad.Length);
        Assert.StartsWith($"bad block at offset {3 * BlockSize} (block 3): unreadable: Input/output error (EIO, errno 5)", bad[0]);
        Assert.StartsWith($"bad block at offset {9 * BlockSize} (block 9): unreadable: Input/output error (EIO, errno 5)", bad[1]);
        Assert.StartsWith($"bad block at offset {20 * BlockSize} (block 20): ", bad[2]);
        Assert.Contains("checksum mismatch", bad[2]);
        Assert.Contains("CORRUPT: 3 of 64 blocks", run.Output);
    }

    [Fact]
    public void Verify_OnFuseUnderAuto_RunsTheThreadPoolEngine_SoABlockFailingInItsSecondHalfIsUnreadable()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        CliRun written = Run("verify", PathOf("big"), "--size", "1m", "--bs", "256k", "--seed", "0x9");
        Assert.True(written.ExitCode == 0, written.ToString());
        // Block 2 is [512 KiB, 768 KiB); its bad byte lies past the first FUSE request (128 KiB), where io_uring would
        // claim the whole block and hand back wrong bytes (docs/engines.md, IoUring, "FUSE").
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(PathOf("big"), PathOf("faultfs"), (724_288, 724_289));

        CliRun run = Run("verify", faulty.FilePath, "--read-only");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("(threadpool,", run.Output);
        Assert.StartsWith("bad block at offset 524288 (block 2): unreadable: Input/output error (EIO, errno 5)", Assert.Single(BadLines(run)));
    }

    [Fact]
    public void Verify_UnreadableFirstBlock_AsksForTheBlockSize_ThenTakesTheSeedFromTheNext()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        WritePattern(seed: "0x77");
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(PathOf("pattern"), PathOf("faultfs"), (0, 1));

        CliRun guessing = Run("verify", faulty.FilePath, "--read-only");
        CliRun told = Run("verify", faulty.FilePath, "--read-only", "--bs", "4k");

        Assert.Equal(2, guessing.ExitCode);
        Assert.Contains("give --bs", guessing.Error);
        Assert.Equal(1, told.ExitCode);
        Assert.Contains("seed 0x77", told.Output);
        Assert.StartsWith("bad block at offset 0 (block 0): unreadable", Assert.Single(BadLines(told)));
    }

    [Fact]
    public void Verify_ReadOnlyWithAnotherSeed_ReportsEveryBlock()
    {
        WritePattern(seed: "7");

        CliRun run = Run("verify", PathOf("pattern"), "--read-only", "--seed", "8");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(64, BadLines(run).Length);
        Assert.Contains("written by another run (seed 0x7, expected 0x8)", run.Output);
    }

    [Fact]
    public void Verify_ExistingFileWithoutForce_ExitsTwo()
    {
        File.WriteAllText(PathOf("pattern"), "precious");

        CliRun run = Run("verify", PathOf("pattern"), "--size", "64k");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--force", run.Error);
        Assert.Equal("precious", File.ReadAllText(PathOf("pattern")));
    }

    [Theory]
    [InlineData("--size", "10000")]
    [InlineData("--bs", "100")]
    [InlineData("--iodepth", "0")]
    [InlineData("--seed", "xyz")]
    public void Verify_BadOption_ExitsTwoNamingIt(string option, string value)
    {
        CliRun run = Run("verify", PathOf("pattern"), "--size", "64k", option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, run.Error);
        Assert.False(File.Exists(PathOf("pattern")));
    }

    [Fact]
    public void Verify_ReadOnlyOnAFileThatIsNotAPattern_ExitsTwo()
    {
        CreateRandomFile("other", 8192);

        CliRun run = Run("verify", PathOf("other"), "--read-only");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("does not start with a pattern block", run.Error);
    }

    private void WritePattern(string seed = "0x5eed")
    {
        CliRun run = Run("verify", PathOf("pattern"), "--size", "256k", "--bs", "4k", "--seed", seed);
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x01));
    }

    private static string[] BadLines(CliRun run) =>
        [.. run.Output.Split('\n').Where(l => l.StartsWith("bad block", StringComparison.Ordinal))];
}
