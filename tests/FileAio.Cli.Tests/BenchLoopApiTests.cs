using System.Text.Json;
using FileAio.Cli.Tests.Infrastructure;

namespace FileAio.Cli.Tests;

/// <summary><c>bench --api loop</c> (the thread-per-core mode): it runs on every engine that runs here, with several
/// jobs (one loop each) and every pattern, and reports what the other apis report. Never how fast.</summary>
public sealed class BenchLoopApiTests : CliTest
{
    private static readonly string[] s_short = ["--size", "8m", "--runtime", "0.2", "--warmup", "0.1"];

    public static TheoryData<string> Engines => new("io_uring", "linux-aio", "posix-aio", "threadpool");

    [Theory]
    [MemberData(nameof(Engines))]
    public void LoopApi_OnEachEngine_ReadsCachedAndDirect_WithoutErrors(string engine)
    {
        AioLimits limits = AioContext.GetLimits(EngineKindOf(engine));
        Assert.SkipUnless(limits.IsSupported, $"{engine} cannot run here: {limits.UnsupportedReason}");

        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "loop", "--engine", engine, "--jobs", "2", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement[] cases = [.. document.RootElement.GetProperty("cases").EnumerateArray()];
        Assert.Equal([false, true], cases.Select(c => c.GetProperty("direct").GetBoolean()));
        foreach (JsonElement c in cases)
        {
            Assert.Equal("loop", c.GetProperty("api").GetString());
            Assert.Equal(engine, c.GetProperty("engine").GetString());
            Assert.Equal(2, c.GetProperty("jobs").GetInt32());
            Assert.Equal(32, c.GetProperty("iodepth").GetInt32());
            Assert.True(c.GetProperty("ops").GetInt64() > 0, c.ToString());
            Assert.Equal(0, c.GetProperty("errors").GetInt64());
            Assert.Equal("process", c.GetProperty("alloc_scope").GetString()); // loops and engine threads: counted process-wide
            Assert.True(c.GetProperty("cpu_us_per_op").GetDouble() > 0, c.ToString());
            Assert.True(c.GetProperty("lat_us").GetProperty("p50").GetDouble() > 0, c.ToString());
        }
    }

    [Fact]
    public void LoopApi_WritePatterns_RunWithoutErrors_AndComparesWithRandomAccess()
    {
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--rw", "write,randrw", "--api", "loop,randomaccess", "--iodepth", "4", "--bs", "8k", "--jobs", "2", "--json" }, .. s_short]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement[] loops = [.. document.RootElement.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("api").GetString() == "loop")];
        Assert.Equal(4, loops.Length); // 2 patterns x 2 modes
        Assert.All(loops, c => Assert.Equal(0, c.GetProperty("errors").GetInt64()));
        Assert.All(loops, c => Assert.True(c.GetProperty("ops").GetInt64() > 0, c.ToString()));
        Assert.All(loops, c => Assert.Equal(JsonValueKind.Number, c.GetProperty("vs_randomaccess").ValueKind));
    }

    [Fact]
    public void LoopApi_IsNamedInTheHelpAndTheTable()
    {
        CliRun help = Run("bench", "--help");
        CliRun run = Run([.. new[] { "bench", "--file", PathOf("data"), "--api", "loop", "--direct", "0" }, .. s_short]);

        Assert.Contains("context, file, file-inline, loop, randomaccess, sync", help.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Single(run.Output.Split('\n'), l => l.Contains("│ loop ", StringComparison.Ordinal) && l.Contains("randread 4k qd32", StringComparison.Ordinal));
    }

    private static AioEngineKind EngineKindOf(string name) => name switch
    {
        "io_uring" => AioEngineKind.IoUring,
        "linux-aio" => AioEngineKind.LinuxAio,
        "posix-aio" => AioEngineKind.PosixAio,
        _ => AioEngineKind.ThreadPool,
    };
}
