using System.Text.Json;
using FileAio.Cli.Tests.Infrastructure;

namespace FileAio.Cli.Tests;

/// <summary>The bench on a small file with short phases: what it prints and how, never how fast (no timing
/// assertions: only that operations happened and none failed).</summary>
public sealed class BenchCommandTests : CliTest
{
    private static readonly string[] s_short = ["--size", "8m", "--runtime", "0.2", "--warmup", "0.1"];

    [Fact]
    public void Bench_Json_ParsesAndHoldsEveryFieldForEveryCase()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "context,file,randomaccess,sync", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement[] cases = [.. document.RootElement.GetProperty("cases").EnumerateArray()];
        Assert.Equal(8, cases.Length); // 4 apis x (cached, direct)
        Assert.Equal(["cases", "file", "file_size", "warmup_s", "host"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["os", "kernel", "cpus", "dotnet", "fileaio"], document.RootElement.GetProperty("host").EnumerateObject().Select(p => p.Name));
        Assert.Equal(PathOf("data"), document.RootElement.GetProperty("file").GetString());
        Assert.Equal(8 << 20, document.RootElement.GetProperty("file_size").GetInt64());
        Assert.Equal(0.1, document.RootElement.GetProperty("warmup_s").GetDouble());
        foreach (JsonElement c in cases)
        {
            // docs/cli.md, "bench --json"; first_error only after an error
            Assert.Equal(
                ["api", "engine", "rw", "bs", "iodepth", "direct", "jobs", "runtime_s", "ops", "iops", "bytes_per_sec", "cpu_us_per_op",
                 "alloc_bytes_per_op", "lat_us", "errors", "run", "alloc_scope", "vs_randomaccess"],
                c.EnumerateObject().Select(p => p.Name));
            Assert.Equal(1, c.GetProperty("run").GetInt32());
            Assert.Contains(c.GetProperty("alloc_scope").GetString(), new[] { "thread", "process" });
            // Each mode has its randomaccess case at depth 32; sync runs at depth 1, so it has none to compare with.
            Assert.Equal(c.GetProperty("api").GetString() == "sync" ? JsonValueKind.Null : JsonValueKind.Number, c.GetProperty("vs_randomaccess").ValueKind);
            foreach (string name in new[] { "api", "engine", "rw" })
            {
                Assert.Equal(JsonValueKind.String, c.GetProperty(name).ValueKind);
            }
            foreach (string name in new[] { "bs", "iodepth", "jobs", "runtime_s", "ops", "iops", "bytes_per_sec", "cpu_us_per_op", "alloc_bytes_per_op", "errors" })
            {
                Assert.Equal(JsonValueKind.Number, c.GetProperty(name).ValueKind);
            }
            Assert.True(c.GetProperty("direct").ValueKind is JsonValueKind.True or JsonValueKind.False);
            JsonElement latency = c.GetProperty("lat_us");
            foreach (string name in new[] { "p50", "p99", "p999", "max" })
            {
                Assert.True(latency.GetProperty(name).GetDouble() > 0, $"{name} of {c}");
            }
            Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p99").GetDouble());
            Assert.True(latency.GetProperty("p99").GetDouble() <= latency.GetProperty("p999").GetDouble());
            Assert.True(latency.GetProperty("p999").GetDouble() <= latency.GetProperty("max").GetDouble());
            Assert.True(c.GetProperty("ops").GetInt64() > 0, c.ToString());
            Assert.Equal(0, c.GetProperty("errors").GetInt64());
            Assert.Equal("randread", c.GetProperty("rw").GetString());
            Assert.Equal(4096, c.GetProperty("bs").GetInt32());
            Assert.Equal(c.GetProperty("api").GetString() == "sync" ? 1 : 32, c.GetProperty("iodepth").GetInt32());
        }
        Assert.Equal([false, false, false, false, true, true, true, true], cases.Select(c => c.GetProperty("direct").GetBoolean()));
        Assert.Equal(["context", "file", "randomaccess", "sync"], cases.Take(4).Select(c => c.GetProperty("api").GetString()));
        string auto = EngineNames.Name(AioContext.GetLimits().Engine);
        Assert.All(cases.Take(2), c => Assert.Equal(auto, c.GetProperty("engine").GetString()));
        Assert.All(cases.Skip(2).Take(2), c => Assert.Equal("none", c.GetProperty("engine").GetString()));
        Assert.All(cases.Where(c => c.GetProperty("api").GetString() == "context"),
            c => Assert.Equal(0, c.GetProperty("alloc_bytes_per_op").GetDouble())); // the raw loop allocates nothing
    }

    [Fact]
    public void Bench_Table_ShowsEachCaseWithTheRatioToRandomAccess()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "context,randomaccess", "--direct", "0" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] rows = [.. run.Output.Split('\n').Where(l => l.Contains("randread 4k qd32", StringComparison.Ordinal))];
        Assert.Equal(2, rows.Length);
        Assert.Contains("context", rows[0]);
        Assert.Contains("randomaccess", rows[1]);
        Assert.Contains("1.00x", rows[1]);
        foreach (string header in new[] { "IOPS", "MiB/s", "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/op", "B alloc/op", "vs RA" })
        {
            Assert.Contains(header, run.Output);
        }
        Assert.Contains("[1/2] context randread 4k qd32 cached", run.Error); // plain progress lines without a terminal
    }

    [Fact]
    public void Bench_WithoutFile_CreatesATemporaryFileAndRemovesIt()
    {
        string temporary = Path.Combine(Path.GetTempPath(), $"fileaio-bench-{Environment.ProcessId}.dat");

        CliRun run = Run([.. new[] { "bench", "--api", "sync", "--direct", "0", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"creating {temporary}", run.Error);
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public void Bench_WritePatternsOnEveryApi_RunWithoutErrors()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--rw", "write,randwrite,randrw,read", "--api", "context,file,randomaccess,sync", "--iodepth", "4", "--bs", "8k", "--jobs", "2", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement[] cases = [.. document.RootElement.GetProperty("cases").EnumerateArray()];
        Assert.Equal(32, cases.Length); // 4 patterns x 4 apis x 2 modes
        Assert.All(cases, c => Assert.Equal(0, c.GetProperty("errors").GetInt64()));
        Assert.All(cases, c => Assert.True(c.GetProperty("ops").GetInt64() > 0, c.ToString()));
        Assert.All(cases, c => Assert.Equal(2, c.GetProperty("jobs").GetInt32()));
    }

    [Fact]
    public void Bench_BothEnginesAndRepeat_ReportsEveryRun()
    {
        AioLimits ioUring = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(ioUring.IsSupported, $"io_uring cannot run here: {ioUring.UnsupportedReason}");
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "context,file", "--engine", "io_uring,threadpool", "--direct", "1", "--repeat", "2", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        var runs = document.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("api").GetString(), c.GetProperty("engine").GetString(), c.GetProperty("run").GetInt32())).ToArray();
        Assert.Equal(
            [("context", "io_uring", 1), ("context", "threadpool", 1), ("file", "io_uring", 1), ("file", "threadpool", 1),
             ("context", "io_uring", 2), ("context", "threadpool", 2), ("file", "io_uring", 2), ("file", "threadpool", 2)],
            runs);
    }

    [Fact]
    public void Bench_FileInline_RunsOnEveryEngine_AsItsOwnCase()
    {
        AioLimits ioUring = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(ioUring.IsSupported, $"io_uring cannot run here: {ioUring.UnsupportedReason}");
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "file,file-inline", "--engine", "io_uring,threadpool", "--direct", "both", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement[] cases = [.. document.RootElement.GetProperty("cases").EnumerateArray()];
        Assert.Equal(
            [("file", "io_uring"), ("file", "threadpool"), ("file-inline", "io_uring"), ("file-inline", "threadpool")],
            cases.Take(4).Select(c => (c.GetProperty("api").GetString(), c.GetProperty("engine").GetString())));
        Assert.Equal(8, cases.Length); // 2 apis x 2 engines x (cached, direct)
        Assert.All(cases, c =>
        {
            Assert.True(c.GetProperty("ops").GetInt64() > 0, c.ToString());
            Assert.Equal(0, c.GetProperty("errors").GetInt64());
            Assert.Equal("process", c.GetProperty("alloc_scope").GetString());
        });
    }

    [Fact]
    public void Bench_Plot_WritesAPng()
    {
        string plot = PathOf("bench.png");

        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "context,sync", "--plot", plot }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        byte[] png = File.ReadAllBytes(plot);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 10_000, $"{png.Length} bytes");
    }

    [Fact]
    public void Bench_ExistingFileWithoutSize_UsesItsLength()
    {
        CreateRandomFile("data", 2 << 20);

        CliRun run = Run("bench", "--file", PathOf("data"), "--api", "sync", "--direct", "0", "--runtime", "0.1", "--warmup", "0", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        Assert.Equal(2 << 20, document.RootElement.GetProperty("file_size").GetInt64());
        Assert.Contains("into the page cache", run.Error); // an existing file is read once before cached cases
        Assert.Equal(2 << 20, new FileInfo(PathOf("data")).Length);
    }

    [Theory]
    [InlineData("linux-aio")]
    [InlineData("posix-aio")]
    [InlineData("io_uring")]
    public void Bench_EngineThatCannotRunHere_ExitsTwoWithTheReason(string engine)
    {
        AioLimits limits = AioContext.GetLimits(EngineKind(engine));
        Assert.SkipWhen(limits.IsSupported, $"{engine} runs here: nothing to refuse");
        CliRun run = Run("bench", "--file", PathOf("data"), "--engine", engine);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"engine {engine} cannot run here: ", run.Error);
        Assert.Contains(limits.UnsupportedReason!, run.Error);
        Assert.False(File.Exists(PathOf("data"))); // refused before anything was created
    }

    [Theory]
    [InlineData("--bs", "abc", "--bs")]
    [InlineData("--bs", "0", "--bs")]
    [InlineData("--iodepth", "0", "--iodepth")]
    [InlineData("--rw", "randomwrite", "--rw")]
    [InlineData("--api", "posix", "--api")]
    [InlineData("--runtime", "0", "--runtime")]
    [InlineData("--direct", "maybe", "--direct")]
    [InlineData("--size", "1k", "--size")]
    [InlineData("--plot", "out.jpg", "--plot")]
    [InlineData("--jobs", "0", "--jobs")]
    public void Bench_BadOption_ExitsTwoNamingIt(string option, string value, string named)
    {
        CliRun run = Run("bench", "--file", PathOf("data"), option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Empty(FileNames()); // refused before the data file was created
    }

    [Fact]
    public void Bench_BlockSizeNotAlignedForDirect_ExitsTwo()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--bs", "1000", "--direct" }, .. s_short]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("direct-I/O alignment", run.Error);
    }

    [Fact]
    public void Bench_BlockSizeNotAlignedForDirect_RefusesBeforeCreatingTheFile()
    {
        // No --size: the file would be 1 GiB. The alignment comes from a probe file, which must be gone too.
        CliRun run = Run("bench", "--file", PathOf("data"), "--bs", "3");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--bs: 3 is not a multiple of", run.Error);
        Assert.DoesNotContain("creating", run.Error);
        Assert.Empty(FileNames());
    }

    [Fact]
    public void Bench_BlockSizeNotAlignedForDirect_WithoutFile_CreatesNoTemporaryFile()
    {
        string temporary = Path.Combine(Path.GetTempPath(), $"fileaio-bench-{Environment.ProcessId}.dat");

        CliRun run = Run("bench", "--bs", "3");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"the direct-I/O alignment of {temporary}", run.Error);
        Assert.DoesNotContain("creating", run.Error);
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public void Bench_FileThatReportsNoSize_SaysSoWithoutMentioningSize()
    {
        Assert.SkipUnless(File.Exists("/proc/version"), "no /proc/version here");

        CliRun run = Run("bench", "--file", "/proc/version");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("fileaio: --file: /proc/version reports a size of 0 bytes, too small for one 4 KiB block; it is on proc", run.Error);
        Assert.DoesNotContain("--size", run.Error); // neither blamed (it was not given) nor offered (proc stores nothing)
    }

    [Fact]
    public void Bench_EmptyFile_SuggestsSizeAndLeavesTheFileAlone()
    {
        File.WriteAllBytes(PathOf("data"), []);

        CliRun run = Run("bench", "--file", PathOf("data"));

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"fileaio: --file: {PathOf("data")} is empty, too small for one 4 KiB block; add --size", run.Error);
        Assert.Equal(0, new FileInfo(PathOf("data")).Length);
    }

    [Fact]
    public void Bench_FileSmallerThanTheBlockSize_SaysHowMuchItHolds()
    {
        CreateRandomFile("data", 1000);

        CliRun run = Run("bench", "--file", PathOf("data"), "--bs", "4k");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--file: {PathOf("data")} holds only 1000 B, too small for one 4 KiB block", run.Error);
        Assert.Equal(1000, new FileInfo(PathOf("data")).Length);
    }

    [Fact]
    public void Bench_DeviceAsFile_SaysItIsNotARegularFile()
    {
        CliRun run = Run("bench", "--file", "/dev/null");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--file: /dev/null reports a size of 0 bytes, too small for one 4 KiB block; it is not a regular file", run.Error);
        Assert.DoesNotContain("--size", run.Error); // --size would write the device
    }

    [Fact]
    public void Bench_Wal_Json_ReportsCommitsOfFileAndFileStream()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("log"), "--rw", "wal", "--iodepth", "4", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        Assert.Equal("after-write", document.RootElement.GetProperty("wal_flush").GetString()); // the default
        JsonElement[] cases = [.. document.RootElement.GetProperty("cases").EnumerateArray()];
        // With no --api, wal runs its two: file and the FileStream baseline; cached and direct.
        Assert.Equal([("file", false), ("filestream", false), ("file", true), ("filestream", true)],
            cases.Select(c => (c.GetProperty("api").GetString(), c.GetProperty("direct").GetBoolean())));
        foreach (JsonElement c in cases)
        {
            Assert.Equal(
                ["api", "engine", "rw", "bs", "iodepth", "direct", "jobs", "runtime_s", "ops", "iops", "bytes_per_sec", "cpu_us_per_op",
                 "alloc_bytes_per_op", "lat_us", "errors", "run", "alloc_scope", "vs_randomaccess", "vs_filestream"],
                c.EnumerateObject().Select(p => p.Name));
            Assert.Equal("wal", c.GetProperty("rw").GetString());
            Assert.Equal(4, c.GetProperty("iodepth").GetInt32());
            Assert.Equal(0, c.GetProperty("errors").GetInt64());
            Assert.True(c.GetProperty("ops").GetInt64() > 0, c.ToString());
            Assert.True(c.GetProperty("iops").GetDouble() > 0, c.ToString()); // commits/s
            Assert.Equal(c.GetProperty("ops").GetInt64() * 4096, c.GetProperty("bytes_per_sec").GetDouble() * c.GetProperty("runtime_s").GetDouble(), 0.01 * c.GetProperty("ops").GetInt64() * 4096);
            JsonElement latency = c.GetProperty("lat_us");
            Assert.True(latency.GetProperty("p50").GetDouble() > 0);
            Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p99").GetDouble());
            Assert.Equal(JsonValueKind.Null, c.GetProperty("vs_randomaccess").ValueKind);
            Assert.True(c.GetProperty("vs_filestream").GetDouble() > 0);
        }
        Assert.All(cases.Where(c => c.GetProperty("api").GetString() == "filestream"), c =>
        {
            Assert.Equal("none", c.GetProperty("engine").GetString());
            Assert.Equal(1.0, c.GetProperty("vs_filestream").GetDouble());
            Assert.Equal("thread", c.GetProperty("alloc_scope").GetString());
        });
    }

    [Theory]
    [InlineData("loop")]
    [InlineData("file-inline")]
    public void Bench_Wal_RunsOnFileAiosOtherAsyncModes(string api)
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("log"), "--rw", "wal", "--iodepth", "4", "--api", api + ",filestream", "--direct", "0", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement mode = document.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("api").GetString() == api);
        Assert.Equal("wal", mode.GetProperty("rw").GetString());
        Assert.Equal(0, mode.GetProperty("errors").GetInt64());
        Assert.True(mode.GetProperty("ops").GetInt64() > 0, mode.ToString()); // commits, each a write and its fdatasync
        Assert.True(mode.GetProperty("vs_filestream").GetDouble() > 0);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("loop")]
    public void Bench_Wal_FlushWithWrite_CommitsWithoutErrors_AndSaysSoInTheJson(string api)
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("log"), "--rw", "wal", "--iodepth", "4", "--api", api + ",filestream", "--direct", "0", "--wal-flush", "with-write", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        Assert.Equal("with-write", document.RootElement.GetProperty("wal_flush").GetString());
        JsonElement mode = document.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("api").GetString() == api);
        Assert.Equal(0, mode.GetProperty("errors").GetInt64());
        Assert.True(mode.GetProperty("ops").GetInt64() > 0, mode.ToString());
        Assert.True(mode.GetProperty("vs_filestream").GetDouble() > 0);
    }

    [Fact]
    public void Bench_WalFlush_WithoutWal_OrWithAnUnknownWord_ExitsTwo()
    {
        CliRun withoutWal = Run("bench", "--file", PathOf("data"), "--rw", "randread", "--wal-flush", "with-write");
        CliRun unknown = Run("bench", "--file", PathOf("log"), "--rw", "wal", "--wal-flush", "sometimes");

        Assert.Equal(2, withoutWal.ExitCode);
        Assert.Contains("--wal-flush: it says how --rw wal's appenders flush, and no --rw wal is asked for", withoutWal.Error);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("'sometimes' is neither after-write nor with-write", unknown.Error);
        Assert.Empty(FileNames()); // refused before the data file was created
    }

    [Fact]
    public void Bench_Wal_Table_ShowsAppendersAndTheRatioToFileStream()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("log"), "--rw", "wal", "--iodepth", "2", "--direct", "0" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] rows = [.. run.Output.Split('\n').Where(l => l.Contains("wal 4k 2 appenders", StringComparison.Ordinal))];
        Assert.Equal(2, rows.Length);
        Assert.Contains("file", rows[0]);
        Assert.Contains("filestream", rows[1]);
        Assert.Contains("1.00x", rows[1]);
        Assert.Contains("vs FS", run.Output);
        Assert.Contains("wal: IOPS = commits/s", run.Output);
    }

    [Fact]
    public void Bench_WithoutWal_HasNoFileStreamColumnOrField()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "sync", "--direct", "0" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("vs FS", run.Output);
    }

    [Theory]
    [InlineData("randomaccess", "wal", "--api randomaccess does not run --rw wal: the write-ahead log needs a flush per write, run by file, file-inline and loop (AioFile) and filestream (the .NET baseline)")]
    [InlineData("sync", "wal", "--api sync does not run --rw wal")]
    [InlineData("context", "wal", "--api context does not run --rw wal")]
    [InlineData("file,sync", "randread,wal", "--api sync does not run --rw wal")]
    [InlineData("filestream", "randread", "--api filestream runs only --rw wal (it is the write-ahead log's .NET baseline); for randread use context, file, randomaccess or sync")]
    [InlineData("file,filestream", "write", "--api filestream runs only --rw wal")]
    public void Bench_ApiThatDoesNotRunThePattern_ExitsTwoSayingWhich(string api, string rw, string message)
    {
        CliRun run = Run("bench", "--file", PathOf("data"), "--api", api, "--rw", rw);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Empty(FileNames()); // refused before the data file was created
    }

    [Fact]
    public void Bench_WalWithJobs_ExitsTwoNamingTheAppenders()
    {
        CliRun run = Run("bench", "--file", PathOf("log"), "--rw", "wal", "--jobs", "2");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--jobs 2: --rw wal runs one log; its appenders are --iodepth", run.Error);
        Assert.Empty(FileNames());
    }
}
