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
    public void NoCommand_ExitsTwoSayingSoAndListingTheCommands()
    {
        CliRun run = Run();

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(["fileaio: no command given (commands: info, bench, copy, verify)", "Run 'fileaio --help' for usage."], Lines(run.Error));
    }

    [Theory]
    [InlineData("frobnicate", "unknown command 'frobnicate'")]
    [InlineData("--frob", "unknown option '--frob'")]
    public void UnknownWordAtTheTop_SaysWhatIsUnknownAndListsTheCommands(string word, string expected)
    {
        CliRun run = Run(word, "--size", "3");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"fileaio: {expected} (commands: info, bench, copy, verify)", "Run 'fileaio --help' for usage."], Lines(run.Error));
    }

    [Theory]
    [InlineData("copy only-one", "copy: DST missing (usage: fileaio copy SRC DST [options])")]
    [InlineData("copy", "copy: SRC and DST missing (usage: fileaio copy SRC DST [options])")]
    [InlineData("verify", "verify: PATH missing (usage: fileaio verify PATH [options])")]
    [InlineData("bench frob", "bench: unexpected argument 'frob'")]
    [InlineData("bench --frob", "bench: unknown option '--frob'")]
    public void MissingOrUnknownWordAfterACommand_NamesTheCommandAndTheWord(string line, string expected)
    {
        CliRun run = Run(line.Split(' '));

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"fileaio: {expected}", $"Run 'fileaio {line.Split(' ')[0]} --help' for usage."], Lines(run.Error));
    }

    [Theory]
    [InlineData("bench --runtime abc", "--runtime: 'abc' is not a number of seconds")]
    [InlineData("bench --warmup 1s", "--warmup: '1s' is not a number of seconds")]
    [InlineData("bench --runtime 0", "--runtime: '0' must be more than 0 seconds (at most a day)")]
    [InlineData("bench --jobs x", "--jobs: 'x' must be a whole number from 1 to 256")]
    [InlineData("bench --repeat 1.5", "--repeat: '1.5' must be a whole number from 1 to 1,000")]
    [InlineData("bench --iodepth 4,many", "--iodepth: 'many' must be a whole number from 1 to 65,536")]
    [InlineData("bench --size 1x", "--size: '1x' is not a size (examples: 4096, 4k, 1m, 1g)")]
    [InlineData("bench --bs 512m", "--bs: '512m' must be from 1 byte to 256m")]
    [InlineData("bench --direct maybe", "--direct: 'maybe' is not 0/1, true/false, yes/no, on/off or both")]
    [InlineData("bench --engine fast", "--engine: unknown engine 'fast' (choose auto, io_uring, linux-aio, posix-aio, threadpool)")]
    [InlineData("copy a b --iodepth none", "--iodepth: 'none' must be a whole number from 1 to 4,096")]
    [InlineData("copy a b --bs 4q", "--bs: '4q' is not a size (examples: 4096, 4k, 1m, 1g)")]
    [InlineData("verify x --bs 100", "--bs: '100' is too small; a pattern block needs at least 512 bytes")]
    [InlineData("verify x --seed zz", "--seed: 'zz' is not a number (decimal, or hexadecimal with 0x)")]
    public void BadValue_OneLineNamingTheOptionAndTheValueInWords(string commandLine, string expected)
    {
        string[] args = commandLine.Split(' ');

        CliRun run = Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"fileaio: {expected}", $"Run 'fileaio {args[0]} --help' for usage."], Lines(run.Error));
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

    [Theory]
    [InlineData("info")]
    [InlineData("info", "--json")]
    public void StandardOutputFull_ExitsThreeWithOneLineSayingSo(params string[] args)
    {
        Assert.SkipUnless(File.Exists("/dev/full"), "no /dev/full here");
        // Standard output on /dev/full, written through as the console's is (every write reaches the device).
        var device = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        var output = new StreamWriter(device) { AutoFlush = true };

        CliRun run = Run(output, args);

        Assert.Equal(3, run.ExitCode);
        Assert.Equal(["fileaio: cannot write to standard output: No space left on device (ENOSPC, errno 28)"], Lines(run.Error));
        device.Dispose(); // not the writer: disposing it would flush what /dev/full refused once more
    }

    [Theory]
    [InlineData("info")]
    [InlineData("info", "--json")]
    [InlineData("copy")] // a usage error, reported on standard error only
    public void StandardOutputAndErrorFull_StillEndWithTheExitCode(params string[] args)
    {
        Assert.SkipUnless(File.Exists("/dev/full"), "no /dev/full here");
        // Both on /dev/full: the failure to write the result cannot be reported either, and must not become a crash.
        var outDevice = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        var errorDevice = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        var output = new StreamWriter(outDevice) { AutoFlush = true };
        var error = new StreamWriter(errorDevice) { AutoFlush = true };

        int exit = FileAioCli.RunAsync(args, new Terminal(output, error), CancellationToken.None).GetAwaiter().GetResult();

        Assert.Equal(args[0] == "copy" ? 2 : 3, exit);
        outDevice.Dispose();
        errorDevice.Dispose();
    }

    [Fact]
    public void InfoOnAMissingPath_ExitsThreeWithErrnoAndPath()
    {
        CliRun run = Run("info", PathOf("missing"));

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("ENOENT", run.Error);
        Assert.Contains(PathOf("missing"), run.Error);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
