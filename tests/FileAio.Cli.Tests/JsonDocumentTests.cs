using System.Text.Json;
using FileAio.Cli.Bench;
using FileAio.Cli.Info;

namespace FileAio.Cli.Tests;

/// <summary>The JSON documents as the source-generated serializer writes them, for facts this machine may not have:
/// io_uring refused, an unlimited rlimit, a path with no mount and no alignment, a case with errors.</summary>
public sealed class JsonDocumentTests
{
    [Fact]
    public void InfoFacts_Serialized_KeepKernelWordsAndNullsAndSpellErrnosOut()
    {
        var facts = new InfoFacts(
            "1.0.0", "10.0.0", "Linux", "X64", 2, AioEngineKind.ThreadPool,
            [new InfoFacts.EngineFacts(AioEngineKind.IoUring, false, null, "refused")],
            new InfoFacts.IoUringFacts(false, InfoFacts.ErrnoFacts.From(1), null, null, null),
            new InfoFacts.LimitFacts(
                new InfoFacts.SoftHard("unlimited", "unlimited"), new InfoFacts.SoftHard("1024", "4096"), "2", null, "65536", "-1", 4),
            new InfoFacts.LoopFacts(2, new InfoFacts.LoopProbeFacts(AioEngineKind.ThreadPool, 201, [
                new InfoFacts.LoopSample(0, 90, 8.5, 40.25, 1234, 10.5, 120.5),
                new InfoFacts.LoopSample(1, 90, 30, 75, 0, null, null)]), null),
            new InfoFacts.PathFacts(
                "/x", "/x", InfoFacts.PathKind.Directory, null, null, AioEngineKind.ThreadPool,
                new InfoFacts.DirectIoFacts(InfoFacts.DirectIoStatus.Unknown, "cannot create a probe file here", null, null, null)));

        string json = JsonSerializer.Serialize(facts, CliJsonContext.Default.InfoFacts);

        Assert.Equal(
            """
            {
              "fileaio": "1.0.0",
              "dotnet": "10.0.0",
              "os": "Linux",
              "arch": "X64",
              "cpus": 2,
              "auto_engine": "threadpool",
              "engines": [
                {
                  "name": "io_uring",
                  "supported": false,
                  "max_in_flight": null,
                  "reason": "refused"
                }
              ],
              "io_uring": {
                "setup_works": false,
                "setup_errno": {
                  "errno": 1,
                  "name": "EPERM",
                  "message": "Operation not permitted (EPERM, errno 1)"
                },
                "features": null,
                "opcodes": null,
                "probe_errno": null
              },
              "limits": {
                "rlimit_memlock_bytes": {
                  "soft": "unlimited",
                  "hard": "unlimited"
                },
                "rlimit_nofile": {
                  "soft": 1024,
                  "hard": 4096
                },
                "io_uring_disabled": 2,
                "io_uring_group": null,
                "aio_max_nr": 65536,
                "aio_nr": -1,
                "threadpool_workers_per_context": 4
              },
              "loops": {
                "per_host": 2,
                "probe": {
                  "engine": "threadpool",
                  "duration_ms": 201,
                  "loops": [
                    {
                      "index": 0,
                      "posts": 90,
                      "post_to_run_p50_us": 8.5,
                      "post_to_run_max_us": 40.25,
                      "reads": 1234,
                      "read_p50_us": 10.5,
                      "lag_us": 120.5
                    },
                    {
                      "index": 1,
                      "posts": 90,
                      "post_to_run_p50_us": 30,
                      "post_to_run_max_us": 75,
                      "reads": 0,
                      "read_p50_us": null,
                      "lag_us": null
                    }
                  ]
                },
                "probe_problem": null
              },
              "path": {
                "path": "/x",
                "canonical": "/x",
                "kind": "directory",
                "size": null,
                "file_system": null,
                "auto_engine": "threadpool",
                "direct_io": {
                  "status": "unknown",
                  "problem": "cannot create a probe file here",
                  "memory_alignment": null,
                  "offset_alignment": null,
                  "alignment_source": null
                }
              }
            }
            """.ReplaceLineEndings("\n"),
            json.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void BenchDocument_CaseWithErrors_NamesTheFirst_AndRoundsWhatWasMeasured()
    {
        var benchCase = new BenchCase(BenchApi.File, AioEngineKind.IoUring, ReadWriteMode.RandWrite, 8192, 4, true, 2);
        var result = new BenchResult(
            benchCase, "io_uring", 1, RuntimeSeconds: 0.20004, Ops: 3, Bytes: 24576, Errors: 1, CpuSeconds: 0.000123456,
            AllocatedBytes: 10, "process", new LatencySummary(1.23456, 2.5, 3.000001, 4), "write failed: EIO");
        var settings = new BenchSettings("/tmp/d", 1 << 20, 0.2, 0.5, 1);

        using JsonDocument document = JsonDocument.Parse(
            JsonSerializer.Serialize(BenchDocument.From([result], settings), CliJsonContext.Default.BenchDocument));

        JsonElement c = Assert.Single(document.RootElement.GetProperty("cases").EnumerateArray());
        Assert.Equal("file", c.GetProperty("api").GetString());
        Assert.Equal("randwrite", c.GetProperty("rw").GetString());
        Assert.Equal(8192, c.GetProperty("bs").GetInt32());
        Assert.True(c.GetProperty("direct").GetBoolean());
        Assert.Equal(0.2, c.GetProperty("runtime_s").GetDouble());
        Assert.Equal(15.0, c.GetProperty("iops").GetDouble()); // 3 / 0.20004 = 14.997, to one decimal
        Assert.Equal(122855, c.GetProperty("bytes_per_sec").GetDouble()); // 24576 / 0.20004 = 122855.4
        Assert.Equal(41.152, c.GetProperty("cpu_us_per_op").GetDouble());
        Assert.Equal(3.333, c.GetProperty("alloc_bytes_per_op").GetDouble());
        Assert.Equal(1.23, c.GetProperty("lat_us").GetProperty("p50").GetDouble());
        Assert.Equal(3, c.GetProperty("lat_us").GetProperty("p999").GetDouble());
        Assert.Equal(JsonValueKind.Null, c.GetProperty("vs_randomaccess").ValueKind);
        Assert.Equal("write failed: EIO", c.GetProperty("first_error").GetString());
        Assert.Equal(0.5, document.RootElement.GetProperty("warmup_s").GetDouble());
    }
}
