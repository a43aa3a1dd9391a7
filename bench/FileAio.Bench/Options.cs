using System.Globalization;

namespace FileAio.Bench;

/// <summary>The command line, parsed by hand: a handful of <c>--name value</c> options do not justify a dependency.</summary>
internal sealed class Options
{
    public const string Usage =
        """
        usage: FileAio.Bench randread|file|loop|randomaccess --file PATH [--size 1g] [--bs 4096] [--iodepth 32]
                             [--complete-max IODEPTH] [--runtime 10] [--warmup 2] [--direct 0|1] [--engine auto|io_uring|linux-aio|posix-aio|threadpool] [--json]
               FileAio.Bench fill --file PATH [--size 1g]
               FileAio.Bench check [--engine auto|io_uring|linux-aio|posix-aio|threadpool]

          randread      FileAio's AioContext on one thread: iodepth requests in flight, batched submit and reap
                        (at most complete-max completions per Wait, as fio's iodepth_batch_complete_max)
          file          FileAio's AioFile.ReadAsync from iodepth concurrent async loops (the async layer)
          loop          FileAio's loop mode: iodepth async loops run on one engine thread (AioLoop.RunAsync), each
                        awaiting AioFile.ReadAsync of a file bound to that loop
          randomaccess  .NET RandomAccess.ReadAsync from iodepth concurrent async loops (the baseline)
          fill          only create the file (non-zero data, fsync'd) if it is missing or too small
          check         exit 0 if the engine runs here, else print why and exit 2
        """;

    public required string Mode { get; init; }
    public string? File { get; private set; }
    public long Size { get; private set; } = 1L << 30;
    public int BlockSize { get; private set; } = 4096;
    public int IoDepth { get; private set; } = 32;

    /// <summary>randread: the most completions one Wait collects (fio's iodepth_batch_complete_max); 0: iodepth.</summary>
    public int CompleteMax { get; private set; }
    public double RuntimeSeconds { get; private set; } = 10;
    public double WarmupSeconds { get; private set; } = 2;
    public bool Direct { get; private set; }
    public string EngineName { get; private set; } = "auto";
    public AioEngineKind Engine { get; private set; } = AioEngineKind.Auto;
    public bool Json { get; private set; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> with a message for the user.</summary>
    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("randread" or "file" or "loop" or "randomaccess" or "fill" or "check"))
        {
            throw new FormatException("the first argument must be randread, file, loop, randomaccess, fill or check");
        }
        var options = new Options { Mode = args[0] };
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            if (name == "--json")
            {
                options.Json = true;
                continue;
            }
            if (i + 1 >= args.Length)
            {
                throw new FormatException($"{name} needs a value");
            }
            string value = args[++i];
            switch (name)
            {
                case "--file": options.File = value; break;
                case "--size": options.Size = ParseSize(value); break;
                case "--bs": options.BlockSize = checked((int)ParseSize(value)); break;
                case "--iodepth": options.IoDepth = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--complete-max": options.CompleteMax = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--runtime": options.RuntimeSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": options.WarmupSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--direct": options.Direct = value is "1" or "true"; break;
                case "--engine":
                    options.EngineName = value;
                    options.Engine = value switch
                    {
                        "auto" => AioEngineKind.Auto,
                        "io_uring" => AioEngineKind.IoUring,
                        "linux-aio" => AioEngineKind.LinuxAio,
                        "posix-aio" => AioEngineKind.PosixAio,
                        "threadpool" => AioEngineKind.ThreadPool,
                        _ => throw new FormatException($"unknown engine '{value}' (auto, io_uring, linux-aio, posix-aio or threadpool)"),
                    };
                    break;
                default: throw new FormatException($"unknown option {name}");
            }
        }
        if (options.Mode != "check")
        {
            if (options.File is null)
            {
                throw new FormatException("--file is required");
            }
            if (options.BlockSize <= 0 || options.IoDepth <= 0 || options.RuntimeSeconds <= 0 || options.WarmupSeconds < 0)
            {
                throw new FormatException("--bs, --iodepth and --runtime must be positive, --warmup not negative");
            }
            if (options.CompleteMax < 0 || options.CompleteMax > options.IoDepth)
            {
                throw new FormatException("--complete-max must be between 1 and --iodepth (0: iodepth)");
            }
            if (options.Size < options.BlockSize || options.Size % options.BlockSize != 0)
            {
                throw new FormatException("--size must be a multiple of --bs, and at least one block");
            }
        }
        return options;
    }

    /// <summary>"4096", "4k", "512m", "1g" (binary units, as fio reads them).</summary>
    private static long ParseSize(string text)
    {
        long unit = char.ToLowerInvariant(text[^1]) switch
        {
            'k' => 1L << 10,
            'm' => 1L << 20,
            'g' => 1L << 30,
            _ => 1,
        };
        string digits = unit == 1 ? text : text[..^1];
        return checked(long.Parse(digits, CultureInfo.InvariantCulture) * unit);
    }
}
