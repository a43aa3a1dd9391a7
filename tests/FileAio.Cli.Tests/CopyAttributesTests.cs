using FileAio.Cli.Tests.Infrastructure;

namespace FileAio.Cli.Tests;

/// <summary><c>copy</c> keeps what <c>cp -p</c> keeps: the mode, the access and modification times to the nanosecond,
/// and the owner and group when permitted.</summary>
public sealed class CopyAttributesTests : CliTest
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Copy_KeepsAnOddModeAndPastTimesToTheNanosecond(bool direct)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "statx and futimens are Linux's");
        string source = CreateRandomFile("source", 300_001);
        Coreutils.Run("chmod", "0640", source);
        Coreutils.Run("touch", "-a", "-d", "@1560000000.111222333", source);
        Coreutils.Run("touch", "-m", "-d", "@1577934245.123456789", source); // 2020-01-02, with a sub-100 ns part
        string before = Coreutils.Stat(source);

        CliRun run = Run([.. new[] { "copy", source, PathOf("copy"), "--verify" }, .. direct ? new[] { "--direct" } : []]);

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] copy = Coreutils.Stat(PathOf("copy")).Split(' ');
        Assert.Equal("640", copy[0]);
        Assert.Equal("1560000000.111222333", copy[2]); // the access time the source had before the copy read it
        Assert.Equal("1577934245.123456789", copy[3]);
        Assert.Equal(before.Split(' ')[1], copy[1]);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(PathOf("copy")));
    }

    [Fact]
    public void Copy_AsRoot_KeepsOwnerGroupAndSetIdBits()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "statx and fchown are Linux's");
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "changing a file's owner needs root");
        string source = CreateRandomFile("source", 1000);
        Coreutils.Run("chown", "65534:100", source);
        Coreutils.Run("chmod", "6750", source); // after chown, which clears set-id bits

        CliRun run = Run("copy", source, PathOf("copy"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("owner not kept", run.Output);
        Assert.StartsWith("6750 65534:100 ", Coreutils.Stat(PathOf("copy")), StringComparison.Ordinal);
    }
}
