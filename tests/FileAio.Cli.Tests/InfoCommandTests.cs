using System.Text.Json;
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

    [Fact]
    public void InfoJson_IsOneDocumentWithEveryField_AndAgreesWithTheLibrary()
    {
        CreateRandomFile("data", 12345);

        CliRun run = Run("info", PathOf("data"), "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        foreach (string field in new[] { "fileaio", "dotnet", "os", "arch", "cpus", "auto_engine", "engines", "io_uring", "limits", "loops", "path" })
        {
            Assert.True(root.TryGetProperty(field, out _), $"missing field {field}");
        }
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("cpus").GetInt32());
        Assert.Equal(EngineNames.Name(AioContext.GetLimits().Engine), root.GetProperty("auto_engine").GetString());

        JsonElement[] engines = [.. root.GetProperty("engines").EnumerateArray()];
        Assert.Equal(["io_uring", "linux-aio", "posix-aio", "threadpool"], engines.Select(e => e.GetProperty("name").GetString()));
        foreach (JsonElement engine in engines)
        {
            AioLimits limits = AioContext.GetLimits(EngineKind(engine.GetProperty("name").GetString()!));
            Assert.Equal(limits.IsSupported, engine.GetProperty("supported").GetBoolean());
            if (limits.IsSupported)
            {
                Assert.Equal(limits.MaxOutstanding, engine.GetProperty("max_in_flight").GetInt32());
                Assert.Equal(JsonValueKind.Null, engine.GetProperty("reason").ValueKind);
            }
            else
            {
                Assert.Equal(limits.UnsupportedReason, engine.GetProperty("reason").GetString());
            }
        }

        JsonElement ioUring = root.GetProperty("io_uring");
        if (AioContext.GetLimits(AioEngineKind.IoUring).IsSupported)
        {
            Assert.True(ioUring.GetProperty("setup_works").GetBoolean());
            Assert.Contains("READV", ioUring.GetProperty("opcodes").EnumerateArray().Select(o => o.GetString()));
            IoUringCapabilities kernel = IoUringCapabilities.Probe(); // what info prints is the library's answer
            Assert.Equal(kernel.FeatureNames, ioUring.GetProperty("features").EnumerateArray().Select(f => f.GetString()!));
            Assert.Equal(kernel.SupportedOpcodes, ioUring.GetProperty("opcodes").EnumerateArray().Select(o => o.GetString()!));
        }
        Assert.Equal(JsonValueKind.Object, root.GetProperty("limits").ValueKind);
        Assert.True(root.GetProperty("limits").GetProperty("threadpool_workers_per_context").GetInt32() >= 4);

        JsonElement path = root.GetProperty("path");
        Assert.Equal(PathOf("data"), path.GetProperty("path").GetString());
        Assert.Equal("file", path.GetProperty("kind").GetString());
        Assert.Equal(12345, path.GetProperty("size").GetInt64());
        Assert.False(path.GetProperty("file_system").GetProperty("fuse").GetBoolean());
        Assert.Equal(EngineNames.Name(AioContext.GetLimits().Engine), path.GetProperty("auto_engine").GetString());
        JsonElement directIo = path.GetProperty("direct_io");
        Assert.Contains(directIo.GetProperty("status").GetString(), new[] { "works", "refused", "unsupported", "unknown" });
        if (directIo.GetProperty("status").GetString() == "works")
        {
            Assert.True(directIo.GetProperty("offset_alignment").GetInt32() >= 512);
        }
    }

    [Fact]
    public void InfoJson_HasTheDocumentedFieldsInTheDocumentedOrder()
    {
        CreateRandomFile("data", 100);

        CliRun run = Run("info", PathOf("data"), "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        // docs/cli.md, "info --json"
        Assert.Equal(["fileaio", "dotnet", "os", "arch", "cpus", "auto_engine", "engines", "io_uring", "limits", "loops", "path"], Names(root));
        Assert.All(root.GetProperty("engines").EnumerateArray(), e => Assert.Equal(["name", "supported", "max_in_flight", "reason"], Names(e)));
        Assert.Equal(["setup_works", "setup_errno", "features", "opcodes", "probe_errno"], Names(root.GetProperty("io_uring")));
        JsonElement limits = root.GetProperty("limits");
        Assert.Equal(
            ["rlimit_memlock_bytes", "rlimit_nofile", "io_uring_disabled", "io_uring_group", "aio_max_nr", "aio_nr", "threadpool_workers_per_context"],
            Names(limits));
        Assert.Equal(["soft", "hard"], Names(limits.GetProperty("rlimit_nofile")));
        JsonElement loops = root.GetProperty("loops");
        Assert.Equal(["per_host", "probe", "probe_problem"], Names(loops));
        Assert.Equal(["engine", "duration_ms", "loops"], Names(loops.GetProperty("probe")));
        Assert.All(loops.GetProperty("probe").GetProperty("loops").EnumerateArray(),
            l => Assert.Equal(["index", "posts", "post_to_run_p50_us", "post_to_run_max_us", "reads", "read_p50_us", "lag_us"], Names(l)));
        JsonElement path = root.GetProperty("path");
        Assert.Equal(["path", "canonical", "kind", "size", "file_system", "auto_engine", "direct_io"], Names(path));
        Assert.Equal(["type", "source", "mount_point", "options", "fuse"], Names(path.GetProperty("file_system")));
        Assert.Equal(["status", "problem", "memory_alignment", "offset_alignment", "alignment_source"], Names(path.GetProperty("direct_io")));
    }

    [Fact]
    public void InfoJson_OnAFuseFile_NamesTheThreadPoolEngineForAuto()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        string backing = CreateRandomFile("backing", 8192);
        using FaultyFileSystem faulty = FaultyFileSystem.Mount(backing, PathOf("faultfs"), (1 << 20, (1 << 20) + 1));

        CliRun run = Run("info", faulty.FilePath, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement path = document.RootElement.GetProperty("path");
        Assert.True(path.GetProperty("file_system").GetProperty("fuse").GetBoolean());
        Assert.Equal("threadpool", path.GetProperty("auto_engine").GetString());
    }

    [Fact]
    public void InfoJson_WithoutAPath_HasANullPath_AndAMissingPathIsExitThree()
    {
        CliRun plain = Run("info", "--json");
        CliRun missing = Run("info", PathOf("nothing-here"), "--json");

        Assert.True(plain.ExitCode == 0, plain.ToString());
        using JsonDocument document = JsonDocument.Parse(plain.Output);
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("path").ValueKind);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("ENOENT", missing.Error);
        Assert.Equal("", missing.Output);
    }

    [Fact]
    public void InfoJson_ProbesTheLoopMode_OneLoopPerCoreUpToFour_WithLagFromTheMeter()
    {
        CliRun run = Run("info", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement loops = document.RootElement.GetProperty("loops");
        Assert.Equal(JsonValueKind.Null, loops.GetProperty("probe_problem").ValueKind);
        int perHost = Math.Clamp(Environment.ProcessorCount, 1, 4); // AioEngineHost.Create(threads: 0), docs/async.md
        Assert.Equal(perHost, loops.GetProperty("per_host").GetInt32());
        JsonElement probe = loops.GetProperty("probe");
        Assert.Equal(EngineNames.Name(AioContext.GetLimits().Engine), probe.GetProperty("engine").GetString());
        Assert.True(probe.GetProperty("duration_ms").GetDouble() >= 200, probe.ToString());
        JsonElement[] samples = [.. probe.GetProperty("loops").EnumerateArray()];
        Assert.Equal(Enumerable.Range(0, perHost), samples.Select(l => l.GetProperty("index").GetInt32()));
        foreach (JsonElement loop in samples)
        {
            bool first = loop.GetProperty("index").GetInt32() == 0;
            Assert.True(loop.GetProperty("posts").GetInt32() > 0, loop.ToString());
            Assert.True(loop.GetProperty("post_to_run_p50_us").GetDouble() > 0, loop.ToString());
            Assert.True(loop.GetProperty("post_to_run_p50_us").GetDouble() <= loop.GetProperty("post_to_run_max_us").GetDouble(), loop.ToString());
            Assert.Equal(first, loop.GetProperty("reads").GetInt64() > 0); // only loop 0 reads
            Assert.Equal(first ? JsonValueKind.Number : JsonValueKind.Null, loop.GetProperty("read_p50_us").ValueKind);
            Assert.True(loop.GetProperty("lag_us").GetDouble() > 0, loop.ToString()); // every loop is reported by the meter
        }
    }

    [Fact]
    public void Info_Text_ShowsTheLoopModeAndEachLoopsLag()
    {
        CliRun run = Run("info");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Loop mode (AioLoop", run.Output);
        Assert.Contains($"loops per host   {Math.Clamp(Environment.ProcessorCount, 1, 4)} (", run.Output);
        string loop0 = Assert.Single(run.Output.Split('\n'), l => l.StartsWith("  loop 0 ", StringComparison.Ordinal));
        Assert.Matches(@"post to run p50 [0-9.]+ µs, max [0-9.]+ µs \([0-9]+ posts\); [0-9,]+ reads, p50 [0-9.]+ µs; lag [0-9.]+ µs", loop0);
    }

    private static string[] Names(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
