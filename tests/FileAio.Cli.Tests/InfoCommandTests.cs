using FileAio.Cli.Tests.Infrastructure;
using FileAio.Testing;

namespace FileAio.Cli.Tests;

public sealed class InfoCommandTests : CliTest
{
    [Fact]
    public void Info_ListsEveryEngineAndWhyTheOnesThatCannotRunCannot()
    {
        CliRun run = Run("info");

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (AioEngineKind kind in new[] { AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio, AioEngineKind.ThreadPool })
        {
            AioLimits limits = AioContext.GetLimits(kind);
            string row = Assert.Single(run.Output.Split('\n'), l => l.Contains($"│ {EngineNames.Name(kind)} ", StringComparison.Ordinal));
            Assert.Contains(limits.IsSupported ? "yes" : "no", row);
            if (!limits.IsSupported)
            {
                Assert.Contains(limits.UnsupportedReason!, row);
            }
        }
        Assert.Contains($"auto picks {EngineNames.Name(AioContext.GetLimits().Engine)}", run.Output);
        Assert.Contains("RLIMIT_MEMLOCK", run.Output);
    }

    [Fact]
    public void Info_ReportsIoUringFeaturesAndOpcodesWhenItRuns()
    {
        Assert.SkipUnless(AioContext.GetLimits(AioEngineKind.IoUring).IsSupported, "io_uring cannot run here");

        CliRun run = Run("info");

        Assert.Contains("io_uring_setup:  works", run.Output);
        Assert.Contains("EXT_ARG (5.11)", run.Output);
        Assert.Contains(" READV ", run.Output);
    }

    [Fact]
    public void Info_OnADirectory_ShowsItsFileSystemAndDirectIoAlignment()
    {
        CliRun run = Run("info", Directory);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("file system", run.Output);
        Assert.Contains("direct I/O", run.Output);
        Assert.Contains("alignment", run.Output);
        Assert.Empty(System.IO.Directory.GetFileSystemEntries(Directory)); // the probe file is gone
    }

    [Fact]
    public void Info_OnAFuseFile_SaysAutoRunsTheThreadPoolEngineThere()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        string backing = CreateRandomFile("backing", 8192);
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(backing, PathOf("faultfs"), (1 << 20, (1 << 20) + 1));

        CliRun onFuse = Run("info", faulty.FilePath);
        CliRun onExt4 = Run("info", backing);

        Assert.True(onFuse.ExitCode == 0, onFuse.ToString());
        Assert.Contains("threadpool under auto: io_uring misreports FUSE reads", onFuse.Output);
        Assert.DoesNotContain("threadpool under auto", onExt4.Output);
    }

    [Fact]
    public void Info_OnAFile_ShowsItsSize()
    {
        CreateRandomFile("data", 12345);

        CliRun run = Run("info", PathOf("data"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("file, 12,345 bytes", run.Output);
    }
}
