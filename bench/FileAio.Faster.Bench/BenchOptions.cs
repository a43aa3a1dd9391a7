using System.Globalization;

namespace FileAio.Faster.Bench;

/// <summary>The command line, parsed by hand as in bench/FileAio.Bench: a handful of <c>--name value</c> options.</summary>
internal sealed class BenchOptions
{
    public const string Usage =
        """
        usage: FileAio.Faster.Bench kv  --device fileaio|managed --dir DIR [--direct 1|0] [--cache cold|warm|as-is]
                                        [--keys 1310720] [--memory-bits 27] [--page-bits 22] [--segment-bits 28]
                                        [--threads 2] [--depth 32] [--read-percent 90] [--drop-ms 5]
                                        [--runtime 15] [--warmup 3] [--engine auto|io_uring|threadpool]
                                        [--inline-reads 1|0] [--json]
               FileAio.Faster.Bench check [--engine ...]
               FileAio.Faster.Bench log --device fileaio|managed --dir DIR [--direct 1|0] [--entry 4096] [--commit-ms 10]
                                        [--memory-bits 24] [--page-bits 22] [--segment-bits 30]
                                        [--runtime 15] [--warmup 3] [--engine ...] [--inline-reads 1|0] [--json]

          kv    FasterKV<long, 1 KiB record>: load --keys records, then --threads sessions each keep up to --depth
                operations in flight, --read-percent reads and the rest upserts, uniform keys
                  --cache cold   drop the store files' page cache every --drop-ms ms while running (posix_fadvise)
                  --cache warm   read the store files into the page cache before measuring
          log   FasterLog: one appender enqueues --entry-byte entries as fast as the log takes them, and a committer
                commits every --commit-ms ms
          check exit 0 if FileAio's engine runs here, else print why and exit 2
          --device fileaio  FileAioDevice (O_DIRECT unless --direct 0), commits through FileAioNamedDeviceFactory
          --device managed  Devices.CreateLogDevice(..., useIoCompletionPort: false): ManagedLocalStorageDevice
          --inline-reads    FileAioDeviceOptions.InlineReadCallbacks: 1 (the default) runs FASTER's record-read callbacks
                            on the engine thread, 0 hops every callback to the thread pool
        """;

    public required string Mode { get; init; }
    public string Device { get; private set; } = "";
    public string? Directory { get; private set; }
    public bool Direct { get; private set; } = true;
    public string Cache { get; private set; } = "as-is";
    public long Keys { get; private set; } = 1_310_720; // 1.25 GiB of 1 KiB records: 10x a 128 MiB memory budget
    public int MemoryBits { get; private set; } = -1;  // mode default: kv 27 (128 MiB), log 24 (16 MiB)
    public int PageBits { get; private set; } = 22;    // 4 MiB pages
    public int SegmentBits { get; private set; } = -1; // mode default: kv 28 (256 MiB), log 30 (1 GiB)
    public int Threads { get; private set; } = 2;
    public int Depth { get; private set; } = 32;
    public int ReadPercent { get; private set; } = 90;
    public double DropMilliseconds { get; private set; } = 5;
    public int EntryBytes { get; private set; } = 4096;
    public double CommitMilliseconds { get; private set; } = 10;
    public double RuntimeSeconds { get; private set; } = 15;
    public double WarmupSeconds { get; private set; } = 3;
    public string EngineName { get; private set; } = "auto";
    public AioEngineKind Engine { get; private set; } = AioEngineKind.Auto;
    public bool InlineReads { get; private set; } = true;
    public bool Json { get; private set; }

    public bool IsFileAio => Device == "fileaio";

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> with a message for the user.</summary>
    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("kv" or "log" or "check"))
        {
            throw new FormatException("the first argument must be kv, log or check");
        }
        var o = new BenchOptions { Mode = args[0] };
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            if (name == "--json")
            {
                o.Json = true;
                continue;
            }
            if (i + 1 >= args.Length)
            {
                throw new FormatException($"{name} needs a value");
            }
            string value = args[++i];
            switch (name)
            {
                case "--device": o.Device = value is "fileaio" or "managed" ? value : throw new FormatException("--device is fileaio or managed"); break;
                case "--dir": o.Directory = value; break;
                case "--direct": o.Direct = value is "1" or "true"; break;
                case "--inline-reads": o.InlineReads = value is "1" or "true"; break;
                case "--cache": o.Cache = value is "cold" or "warm" or "as-is" ? value : throw new FormatException("--cache is cold, warm or as-is"); break;
                case "--keys": o.Keys = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--memory-bits": o.MemoryBits = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--page-bits": o.PageBits = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--segment-bits": o.SegmentBits = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": o.Threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--depth": o.Depth = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--read-percent": o.ReadPercent = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--drop-ms": o.DropMilliseconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--entry": o.EntryBytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--commit-ms": o.CommitMilliseconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--runtime": o.RuntimeSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": o.WarmupSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--engine":
                    o.EngineName = value;
                    o.Engine = value switch
                    {
                        "auto" => AioEngineKind.Auto,
                        "io_uring" => AioEngineKind.IoUring,
                        "threadpool" => AioEngineKind.ThreadPool,
                        _ => throw new FormatException($"unknown engine '{value}' (auto, io_uring or threadpool)"),
                    };
                    break;
                default: throw new FormatException($"unknown option {name}");
            }
        }
        if (o.MemoryBits < 0)
        {
            o.MemoryBits = o.Mode == "kv" ? 27 : 24;
        }
        if (o.SegmentBits < 0)
        {
            o.SegmentBits = o.Mode == "kv" ? 28 : 30;
        }
        if (o.Mode == "check")
        {
            return o;
        }
        if (o.Device.Length == 0 || o.Directory is null)
        {
            throw new FormatException("--device and --dir are required");
        }
        if (o.Keys <= 0 || o.Threads <= 0 || o.Depth <= 0 || o.ReadPercent is < 0 or > 100 || o.DropMilliseconds <= 0
            || o.EntryBytes <= 0 || o.CommitMilliseconds <= 0 || o.RuntimeSeconds <= 0 || o.WarmupSeconds < 0)
        {
            throw new FormatException("counts, sizes and times must be positive (--warmup may be 0), --read-percent 0-100");
        }
        return o;
    }
}
