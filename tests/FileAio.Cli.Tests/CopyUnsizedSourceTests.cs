using FileAio.Cli.Tests.Infrastructure;

namespace FileAio.Cli.Tests;

/// <summary><c>copy</c> of files whose reported size is not their length — procfs (0 bytes), sysfs (a page), FIFOs —
/// reads them to their end, as cp does, and never succeeds with data missing; and its errors name DST, not the
/// temporary file it writes first.</summary>
public sealed class CopyUnsizedSourceTests : CliTest
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Copy_OfAProcfsFile_CopiesWhatReadingItGives(bool direct)
    {
        const string source = "/proc/version"; // reported as 0 bytes; the same text on every read
        Assert.SkipUnless(File.Exists(source), $"{source}: no procfs here");

        CliRun run = Run([.. new[] { "copy", source, PathOf("copy"), "--verify" }, .. direct ? new[] { "--direct" } : []]);

        Assert.True(run.ExitCode == 0, run.ToString());
        byte[] expected = ReadToEnd(source);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, File.ReadAllBytes(PathOf("copy")));
        Assert.Contains($"copied {expected.Length} B ", run.Output);
        Assert.Contains("to end of file", run.Output);
        Assert.Contains(direct ? "O_DIRECT writes" : "page cache", run.Output); // procfs refuses O_DIRECT: DST only
        Assert.Equal(["copy"], FileNames());
    }

    [Fact]
    public void Copy_OfASysfsFile_CopiesItsTextNotItsReportedPage()
    {
        const string source = "/sys/devices/system/cpu/online"; // "0-1\n", reported as 4096 bytes
        Assert.SkipUnless(File.Exists(source), $"{source}: no sysfs here");
        byte[] expected = ReadToEnd(source); // File.ReadAllBytes trusts the size and fails here
        Assert.True(new FileInfo(source).Length > expected.Length, "sysfs reports more than it holds");

        CliRun run = Run("copy", source, PathOf("copy"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(expected, File.ReadAllBytes(PathOf("copy")));
    }

    private static byte[] ReadToEnd(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        using var data = new MemoryStream();
        stream.CopyTo(data);
        return data.ToArray();
    }

    [Theory]
    [InlineData("auto", false)]
    [InlineData("auto", true)]
    [InlineData("threadpool", false)]
    public void Copy_OfAFifo_ReadsUntilTheWriterCloses_InChunksOfTheBlockSize(string engine, bool direct)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "FIFOs through FileAio's engines are tested on Linux");
        string fifo = PathOf("source.fifo");
        Coreutils.Run("mkfifo", fifo);
        byte[] data = File.ReadAllBytes(CreateRandomFile("data", (1 << 20) + 4097)); // many chunks, and a partial last one
        Exception? writeFailure = null;
        var writer = new Thread(() =>
        {
            try
            {
                using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                for (int at = 0; at < data.Length; at += 10_000)
                {
                    stream.Write(data, at, Math.Min(10_000, data.Length - at)); // reads of a pipe come back short
                    stream.Flush();
                }
            }
            catch (IOException e)
            {
                writeFailure = e; // EPIPE: the copy stopped reading before the end
            }
        });
        writer.Start();

        CliRun run = Run([.. new[] { "copy", fifo, PathOf("copy"), "--bs", "64k", "--engine", engine }, .. direct ? new[] { "--direct" } : []]);
        if (!writer.Join(TimeSpan.FromSeconds(30)))
        {
            // The copy let go of the FIFO before the writer opened it: be its reader so that the open returns.
            using (new FileStream(fifo, FileMode.Open, FileAccess.Read))
            {
            }
            writer.Join();
        }

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Null(writeFailure);
        Assert.Equal(data, File.ReadAllBytes(PathOf("copy")));
    }

    [Fact]
    public void Copy_ToAFileInProcfs_NamesTheDestinationNotTheTemporaryFile()
    {
        const string destination = "/proc/version";
        Assert.SkipUnless(File.Exists(destination), $"{destination}: no procfs here");
        string source = CreateRandomFile("source", 10);

        CliRun run = Run("copy", source, destination, "--force");

        Assert.Equal(3, run.ExitCode);
        Assert.StartsWith($"fileaio: create {destination} failed: ", run.Error.Split('\n').Last(l => l.Length > 0), StringComparison.Ordinal);
        Assert.Contains("ENOENT", run.Error);
        Assert.DoesNotContain(".fileaio-", run.Error);
        Assert.DoesNotContain(".tmp", run.Error);
    }
}
