using FileAio.Cli.Tests.Infrastructure;
using FileAio.Testing;

namespace FileAio.Cli.Tests;

public sealed class CopyCommandTests : CliTest
{
    public static TheoryData<long, bool> SizesAndModes()
    {
        var data = new TheoryData<long, bool>();
        foreach (long size in new long[] { 0, 1, 4095, 4096, 4097, (10L << 20) + 1 })
        {
            data.Add(size, false);
            data.Add(size, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SizesAndModes))]
    public void Copy_AnySizeWithAndWithoutDirect_CopyIsByteIdentical(long size, bool direct)
    {
        string source = CreateRandomFile("source", size);
        string destination = PathOf("copy");

        CliRun run = Run([.. new[] { "copy", source, destination, "--verify" }, .. direct ? new[] { "--direct" } : []]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(destination));
        Assert.Contains("fsync'd, verified", run.Output);
        Assert.Equal(["copy", "source"], FileNames()); // no temporary file left
    }

    [Theory]
    [InlineData("threadpool", false)]
    [InlineData("threadpool", true)]
    [InlineData("io_uring", true)]
    public void Copy_SmallBlocksShallowQueue_CopyIsByteIdentical(string engine, bool direct)
    {
        AioLimits limits = AioContext.GetLimits(EngineKind(engine));
        Assert.SkipUnless(limits.IsSupported, $"{engine} cannot run here: {limits.UnsupportedReason}");
        string source = CreateRandomFile("source", (1L << 20) + 4097);
        string destination = PathOf("copy");

        CliRun run = Run([.. new[] { "copy", source, destination, "--bs", "4k", "--iodepth", "3", "--engine", engine }, .. direct ? new[] { "--direct" } : []]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(destination));
    }

    [Fact]
    public void Copy_DestinationExists_RefusesWithoutForceAndLeavesItAlone()
    {
        string source = CreateRandomFile("source", 5000);
        string destination = CreateRandomFile("existing", 100);
        byte[] before = File.ReadAllBytes(destination);

        CliRun refused = Run("copy", source, destination);

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("exists; add --force", refused.Error);
        Assert.Equal(before, File.ReadAllBytes(destination));

        CliRun forced = Run("copy", source, destination, "--force");

        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(destination));
    }

    [Fact]
    public void Copy_IntoDirectory_TakesTheSourceName()
    {
        string source = CreateRandomFile("source", 12345);
        string target = PathOf("into");
        System.IO.Directory.CreateDirectory(target);

        CliRun run = Run("copy", source, target);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(target, "source")));
    }

    [Fact]
    public void Copy_MissingSource_ExitsThreeWithErrnoAndPath()
    {
        CliRun run = Run("copy", PathOf("missing"), PathOf("copy"));

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("ENOENT", run.Error);
        Assert.Contains(PathOf("missing"), run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Empty(FileNames());
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("threadpool")]
    public void Copy_SourceWithAnUnreadableBlock_ExitsThreeWithEioAndLeavesNoFile(string engine)
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        string source = CreateRandomFile("source", 1 << 20);
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(source, PathOf("faultfs"), (700_000, 700_001));

        CliRun run = Run("copy", faulty.FilePath, PathOf("copy"), "--engine", engine);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("EIO", run.Error);
        Assert.Contains(faulty.FilePath, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Equal(["source"], FileNames()); // neither the copy nor its temporary file
    }

    [Fact]
    public void Copy_FromFuseUnderAuto_RunsOnTheThreadPoolEngine_AndCopiesEveryByte()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        string source = CreateRandomFile("source", (1 << 20) + 123);
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(source, PathOf("faultfs"), (4 << 20, (4 << 20) + 1)); // past the end: no fault

        CliRun run = Run("copy", faulty.FilePath, PathOf("copy"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(": threadpool,", run.Output); // io_uring misreads partly failed FUSE reads (docs/engines.md)
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(PathOf("copy")));
    }

    [Fact]
    public void Copy_Interrupted_LeavesNoFileBehind()
    {
        string source = CreateRandomFile("source", 1 << 20);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        CliRun run = Run(cancelled.Token, "copy", source, PathOf("copy"));

        Assert.Equal(130, run.ExitCode);
        Assert.Equal(["source"], FileNames()); // neither the copy nor its temporary file
    }

    [Fact]
    public void Copy_SameFile_ExitsTwo()
    {
        string source = CreateRandomFile("source", 10);

        CliRun run = Run("copy", source, source, "--force");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("same file", run.Error);
    }

    [Fact]
    public void Copy_BlockSizeNotAlignedUnderDirect_ExitsTwoAndLeavesNothing()
    {
        string source = CreateRandomFile("source", 10000);

        CliRun run = Run("copy", source, PathOf("copy"), "--direct", "--bs", "1000");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--bs", run.Error);
        Assert.Equal(["source"], FileNames());
    }

    [Theory]
    [InlineData("linux-aio")]
    [InlineData("posix-aio")]
    [InlineData("io_uring")]
    public void Copy_EngineThatCannotRunHere_ExitsTwoWithTheReason(string engine)
    {
        AioLimits limits = AioContext.GetLimits(EngineKind(engine));
        Assert.SkipWhen(limits.IsSupported, $"{engine} runs here: nothing to refuse");
        string source = CreateRandomFile("source", 10);

        CliRun run = Run("copy", source, PathOf("copy"), "--engine", engine);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"engine {engine} cannot run here: ", run.Error);
        Assert.Contains(limits.UnsupportedReason!, run.Error);
    }
}
