using FileAio.Cli.Tests.Infrastructure;

namespace FileAio.Cli.Tests;

/// <summary>The command line as a whole: help, unknown words, and the rule that user errors exit 2 with a message
/// and never a stack trace.</summary>
public sealed class UsageTests : CliTest
{
    [Fact]
    public void Help_ListsEveryCommandAndExitsZero()
    {
        CliRun run = Run("--help");

        Assert.Equal(0, run.ExitCode);
        foreach (string command in new[] { "info", "bench", "copy", "verify" })
        {
            Assert.Contains(command, run.Output);
        }
    }

    [Theory]
    [InlineData("bench")]
    [InlineData("copy")]
    [InlineData("verify")]
    public void CommandHelp_ListsItsOptionsAndExitsZero(string command)
    {
        CliRun run = Run(command, "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--iodepth", run.Output);
        Assert.Contains("--engine", run.Output);
    }

    [Fact]
    public void NoCommand_ExitsTwoWithAMessage()
    {
        CliRun run = Run();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("fileaio: ", run.Error);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("bench", "--no-such-option")]
    [InlineData("copy", "only-one-argument")]
    [InlineData("copy", "a", "b", "c")]
    [InlineData("verify")]
    [InlineData("bench", "--iodepth", "many")]
    [InlineData("bench", "--runtime", "soon")]
    public void BadCommandLine_ExitsTwoWithWhatIsWrongAndAHint(params string[] args)
    {
        CliRun run = Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("fileaio: ", run.Error);
        Assert.Contains("--help", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Empty(run.Output);
    }

    [Fact]
    public void InfoOnAMissingPath_ExitsThreeWithErrnoAndPath()
    {
        CliRun run = Run("info", PathOf("missing"));

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("ENOENT", run.Error);
        Assert.Contains(PathOf("missing"), run.Error);
    }
}
