using System.CommandLine;
using FileAio.Cli.Bench;
using FileAio.Cli.Plot;
using Spectre.Console;

namespace FileAio.Cli.Commands;

/// <summary>
/// <c>fileaio bench</c>: runs a matrix of cases (api × engine × pattern × block size × depth × cache mode) on one data
/// file and prints one table (or one JSON document). With no options: a 1 GiB file in the temp directory, 4 KiB random
/// reads at queue depth 32, page-cached and O_DIRECT, through the raw context, the async file API and .NET's
/// RandomAccess — then the file is removed.
/// </summary>
internal static class BenchCommand
{
    // The default run must end well within two minutes on a small VM: 6 cases x (1 s + 5 s) plus creating the file.
    private const double DefaultRuntimeSeconds = 5;
    private const double DefaultWarmupSeconds = 1;
    private const long DefaultSize = 1L << 30;

    public static Command Create(Terminal terminal)
    {
        var file = new Option<string?>("--file") { Description = "Data file. Created (or extended to --size) if needed, and kept. Default: a temporary file, removed at the end. Write patterns overwrite its contents.", HelpName = "PATH" };
        file.Validators.Add(result =>
        {
            string full = Path.GetFullPath(result.GetValueOrDefault<string?>()!); // a string: nothing that can fail to convert
            if (Directory.Exists(full))
            {
                result.AddError($"--file: {full} is a directory; give a file name");
            }
        });
        var size = new Option<long?>("--size") { Description = "Bytes of the file to use (4k, 512m, 1g). Default: the --file's length if it exists, else 1g.", HelpName = "SIZE", CustomParser = r => OptionParsers.One<long>(r, Sizes.Read) };
        var rw = ListOption<ReadWriteMode>("--rw", "Access pattern(s): read, write, randread, randwrite, randrw (50/50), wal (--iodepth appenders, each a write then fdatasync per commit). Default: randread.", "PATTERN", BenchNames.ReadRw);
        var bs = ListOption<int>("--bs", "Block size(s) per operation. Default: 4k.", "SIZE", OptionParsers.BlockSize);
        var iodepth = ListOption("--iodepth", "Operations in flight per job. Default: 32.", "N", OptionParsers.WholeNumber(1, 65536));
        var runtime = new Option<double>("--runtime") { Description = "Seconds measured per case.", DefaultValueFactory = _ => DefaultRuntimeSeconds, HelpName = "SECONDS", CustomParser = r => OptionParsers.One(r, OptionParsers.Seconds(zeroAllowed: false)) };
        var warmup = new Option<double>("--warmup") { Description = "Seconds run before measuring (JIT, thread pool, caches).", DefaultValueFactory = _ => DefaultWarmupSeconds, HelpName = "SECONDS", CustomParser = r => OptionParsers.One(r, OptionParsers.Seconds(zeroAllowed: true)) };
        var direct = new Option<bool[]>("--direct") { Description = "O_DIRECT: --direct alone or 1 = direct only, 0 = page-cached only, both. Default: both.", Arity = ArgumentArity.ZeroOrOne, HelpName = "0|1|both", CustomParser = DirectModes };
        var engine = ListOption<AioEngineKind>("--engine", $"FileAio engine(s) for the context, file and loop apis: {EngineNames.Choices}. One that cannot run here is an error. Default: auto.", "ENGINE", EngineNames.Read);
        var api = ListOption<BenchApi>("--api", $"API(s) to drive the file: {BenchNames.ApiChoices} (filestream: the .NET baseline of --rw wal). Default: context, file, randomaccess; file, filestream for --rw wal.", "API", BenchNames.ReadApi);
        var walFlush = new Option<string>("--wal-flush") { Description = "When an AioFile appender of --rw wal begins its flush: after-write (await the write, then flush) or with-write (begin the flush right after the write, then await both: the flush still waits for the write, inside FileAio). filestream is always after-write. Default: after-write.", DefaultValueFactory = _ => "after-write", HelpName = "after-write|with-write", CustomParser = r => OptionParsers.One<string>(r, WalFlushWord) };
        var jobs = new Option<int>("--jobs") { Description = "Independent workers, each with --iodepth in flight (a context and thread each for the context api; an engine thread, running its loops, each for the loop api).", DefaultValueFactory = _ => 1, HelpName = "N", CustomParser = r => OptionParsers.One(r, OptionParsers.WholeNumber(1, 256)) };
        var repeat = new Option<int>("--repeat") { Description = "Run the whole matrix N times, in rounds (each run is reported).", DefaultValueFactory = _ => 1, HelpName = "N", CustomParser = r => OptionParsers.One(r, OptionParsers.WholeNumber(1, 1000)) };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the table." };
        var plot = new Option<string?>("--plot") { Description = "Also draw IOPS and latency percentiles per case into a PNG file.", HelpName = "FILE.png" };
        plot.Validators.Add(result =>
        {
            if (BenchPlot.PathProblem(result.GetValueOrDefault<string?>()!) is string problem)
            {
                result.AddError($"--plot: {problem}");
            }
        });

        var command = new Command("bench", "Measure IOPS, throughput, latency percentiles, CPU and allocations per operation; compare with .NET's RandomAccess.")
        {
            file, size, rw, bs, iodepth, runtime, warmup, direct, engine, api, walFlush, jobs, repeat, json, plot,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            string? plotPath = parse.GetValue(plot);
            var request = new Request(
                parse.GetValue(file), parse.GetValue(size),
                [.. OptionParsers.ListOr(parse, rw, [ReadWriteMode.RandRead]).Distinct()],
                [.. OptionParsers.ListOr(parse, bs, [4096]).Distinct()],
                [.. OptionParsers.ListOr(parse, iodepth, [32]).Distinct()],
                parse.GetValue(runtime), parse.GetValue(warmup), OptionParsers.ListOr(parse, direct, [false, true]),
                [.. OptionParsers.ListOr(parse, engine, [AioEngineKind.Auto]).Distinct()],
                parse.GetResult(api) is null ? null : [.. OptionParsers.ListOr<BenchApi>(parse, api, []).Distinct()],
                parse.GetValue(jobs), parse.GetValue(repeat), parse.GetValue(json), plotPath is null ? null : Path.GetFullPath(plotPath),
                parse.GetValue(walFlush) == "with-write", parse.GetResult(walFlush) is { Implicit: false });
            return Task.FromResult(Run(terminal, request, cancellationToken));
        });
        return command;
    }

    private static Option<T[]> ListOption<T>(string name, string description, string helpName, ValueReader<T> read) => new(name)
    {
        Description = description,
        HelpName = helpName + "[,...]",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = r => OptionParsers.List(r, read),
    };

    /// <summary>The command line, parsed: every value read and in range; <see cref="Run"/> checks what depends on the
    /// machine and the file.</summary>
    private sealed record Request(
        string? File, long? Size, ReadWriteMode[] Rw, int[] BlockSizes, int[] IoDepths,
        double Runtime, double Warmup, bool[] DirectModes, AioEngineKind[] Engines, BenchApi[]? Apis,
        int Jobs, int Repeat, bool Json, string? Plot, bool WalFlushWithWrite, bool WalFlushGiven)
    {
        /// <summary>The apis a pattern runs on: those given, else its defaults.</summary>
        public BenchApi[] ApisFor(ReadWriteMode rw) => Apis ?? (rw == ReadWriteMode.Wal ? BenchNames.WalApis : s_defaultApis);
    }

    private static readonly BenchApi[] s_defaultApis = [BenchApi.Context, BenchApi.File, BenchApi.RandomAccess];

    /// <summary><c>--direct</c> alone: O_DIRECT only; <c>--direct both</c>: both; otherwise a yes/no word.</summary>
    private static bool[] DirectModes(System.CommandLine.Parsing.ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return [true];
        }
        return result.Tokens[0].Value.Equals("both", StringComparison.OrdinalIgnoreCase)
            ? [false, true]
            : [OptionParsers.One<bool>(result, DirectWord)];
    }

    private static string? WalFlushWord(string text, out string word)
    {
        word = text.ToLowerInvariant();
        return word is "after-write" or "with-write" ? null : $"'{text}' is neither after-write nor with-write";
    }

    private static string? DirectWord(string text, out bool value) =>
        OptionParsers.Switch(text, out value) is null ? null : $"'{text}' is not 0/1, true/false, yes/no, on/off or both";

    private static int Run(Terminal terminal, Request request, CancellationToken cancellationToken)
    {
        // What the command line says was checked while parsing; what depends on this machine and the file is checked
        // here, before anything is created or measured.
        foreach (AioEngineKind kind in request.Engines.Where(k => k != AioEngineKind.Auto))
        {
            EngineNames.RequireSupported(kind);
        }
        CheckPatternsAndApis(request);
        foreach (AioEngineKind kind in request.Engines)
        {
            int max = AioContext.GetLimits(kind).MaxOutstanding;
            if (request.Rw.SelectMany(request.ApisFor).Any(a => a is BenchApi.Context or BenchApi.File or BenchApi.FileInline or BenchApi.Loop) && request.IoDepths.Any(d => d > max))
            {
                throw new UsageException($"--iodepth: engine {EngineNames.Name(kind)} takes at most {max} operations in flight per context");
            }
        }

        bool temporary = request.File is null;
        string path = Path.GetFullPath(request.File ?? Path.Combine(Path.GetTempPath(), $"fileaio-bench-{Environment.ProcessId}.dat"));
        int largestBlock = request.BlockSizes.Max();
        long fileSize;
        if (request.Size is long size)
        {
            fileSize = size;
            if (size < largestBlock)
            {
                throw new UsageException($"--size: {Sizes.Format(size)} is smaller than the block size {Sizes.Format(largestBlock)}; the file must hold at least one block");
            }
        }
        else if (!temporary && File.Exists(path))
        {
            fileSize = new FileInfo(path).Length;
            if (fileSize < largestBlock)
            {
                throw new UsageException(BenchFileChecks.TooSmall(path, fileSize, largestBlock));
            }
        }
        else
        {
            fileSize = DefaultSize;
        }
        var settings = new BenchSettings(path, fileSize, request.Runtime, request.Warmup, request.Repeat, request.WalFlushWithWrite);
        List<BenchCase> cases = Matrix(request.ApisFor, request.Engines, request.Rw, request.BlockSizes, request.IoDepths, request.DirectModes, request.Jobs);
        CheckDirectAlignment(path, cases);
        try
        {
            bool created = terminal.WithProgress(scope => BenchFile.Prepare(path, fileSize, scope, cancellationToken));
            List<BenchResult> results = RunAll(terminal, cases, settings, created, cancellationToken);

            if (request.Json)
            {
                BenchReport.WriteJson(terminal.Out, results, settings);
            }
            else
            {
                BenchReport.WriteTable(terminal, results, settings);
            }
            if (request.Plot is not null)
            {
                BenchPlot.Save(request.Plot, results, settings);
                terminal.Note($"plot written to {request.Plot}");
            }
            return ExitCodes.Success;
        }
        finally
        {
            if (temporary)
            {
                TryDelete(path, terminal);
            }
        }
    }

    /// <summary>Every combination, page-cached before O_DIRECT; the .NET apis once per workload (they use no engine),
    /// sync at depth 1.</summary>
    private static List<BenchCase> Matrix(
        Func<ReadWriteMode, BenchApi[]> apisFor, AioEngineKind[] engines, ReadWriteMode[] patterns, int[] blockSizes, int[] depths, bool[] directModes, int jobs)
    {
        var cases = new List<BenchCase>();
        foreach (bool direct in directModes.Distinct().Order())
        {
            foreach (ReadWriteMode rw in patterns)
            {
                foreach (int blockSize in blockSizes)
                {
                    foreach (int depth in depths)
                    {
                        foreach (BenchApi api in apisFor(rw))
                        {
                            int caseDepth = api == BenchApi.Sync ? 1 : depth;
                            IEnumerable<AioEngineKind> caseEngines = api is BenchApi.Context or BenchApi.File or BenchApi.FileInline or BenchApi.Loop ? engines : [AioEngineKind.Auto]; // the .NET apis use no engine
                            foreach (AioEngineKind engine in caseEngines)
                            {
                                var benchCase = new BenchCase(api, engine, rw, blockSize, caseDepth, direct, jobs);
                                if (!cases.Contains(benchCase))
                                {
                                    cases.Add(benchCase);
                                }
                            }
                        }
                    }
                }
            }
        }
        return cases;
    }

    /// <summary>Runs every case, <see cref="BenchSettings.Repeat"/> rounds, keeping the page cache as each case
    /// expects it: the file read through right before each page-cached case (unless it was just written or just read),
    /// and no dirty pages left behind by page-cached writes (fsync after each).</summary>
    /// <remarks>Read through before every page-cached case, not once: an O_DIRECT write drops the pages it writes, and
    /// the kernel may reclaim cold pages while other cases run (some virtual machines run proactive reclaim, DAMON's
    /// "pageout"). When the file is still cached, reading it through takes a fraction of a second.</remarks>
    private static List<BenchResult> RunAll(Terminal terminal, List<BenchCase> cases, BenchSettings settings, bool created, CancellationToken cancellationToken)
    {
        bool justWarmed = created; // a file just written is in the cache
        if (!justWarmed && cases.Any(c => !c.Direct))
        {
            // The first read-through, which may really read the device, with a progress bar of its own.
            terminal.WithProgress(scope =>
            {
                BenchFile.WarmPageCache(settings.FilePath, settings.FileSize, scope, cancellationToken);
                return true;
            });
            justWarmed = true;
        }

        List<BenchResult> RunWith(IBenchProgress progress)
        {
            var results = new List<BenchResult>();
            int total = cases.Count * settings.Repeat;
            int number = 0;
            for (int round = 1; round <= settings.Repeat; round++)
            {
                foreach (BenchCase benchCase in cases)
                {
                    number++;
                    progress.CaseStarting(number, total, BenchReport.Describe(benchCase));
                    if (!benchCase.Direct && !justWarmed)
                    {
                        BenchFile.WarmPageCache(settings.FilePath, settings.FileSize, new ProgressScope(terminal, null), cancellationToken);
                    }
                    justWarmed = false;
                    BenchResult result = BenchRunner.Run(benchCase, settings, round, progress, cancellationToken);
                    if (BenchNames.Writes(benchCase.Rw) && !benchCase.Direct)
                    {
                        BenchFile.Sync(settings.FilePath);
                    }
                    progress.CaseDone(result);
                    results.Add(result);
                }
            }
            return results;
        }

        List<BenchResult> all = terminal.ShowsProgress
            ? terminal.ErrorConsole.Progress()
                .AutoRefresh(false)
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
                .Start(context => RunWith(new TerminalBenchProgress(context, settings.WarmupSeconds, settings.RuntimeSeconds)))
            : RunWith(new PlainBenchProgress(terminal, settings.WarmupSeconds, settings.RuntimeSeconds));

        // Each result against the .NET run of the same workload in the same round: RandomAccess, or for the
        // write-ahead log the FileStream baseline.
        return [.. all.Select(r =>
        {
            BenchResult? baseline = all.FirstOrDefault(b => b.Case.Api == BenchApi.RandomAccess && b.Round == r.Round && b.Case.IsComparableTo(r.Case));
            BenchResult? stream = all.FirstOrDefault(b => b.Case.Api == BenchApi.FileStream && b.Round == r.Round && b.Case.IsComparableTo(r.Case));
            return r with
            {
                VsRandomAccess = baseline is { Iops: > 0 } ? r.Iops / baseline.Iops : null,
                VsFileStream = stream is { Iops: > 0 } ? r.Iops / stream.Iops : null,
            };
        })];
    }

    /// <summary>Every api given runs every pattern given (the write-ahead log needs a flush per write: file and
    /// filestream; filestream runs nothing else), and the log is one file: refused before anything is created.</summary>
    private static void CheckPatternsAndApis(Request request)
    {
        foreach (ReadWriteMode rw in request.Rw)
        {
            foreach (BenchApi api in request.ApisFor(rw).Where(a => !BenchNames.Runs(a, rw)))
            {
                throw new UsageException(api == BenchApi.FileStream
                    ? $"--api filestream runs only --rw wal (it is the write-ahead log's .NET baseline); for {BenchNames.Name(rw)} use context, file, randomaccess or sync"
                    : $"--api {BenchNames.Name(api)} does not run --rw wal: the write-ahead log needs a flush per write, run by file, file-inline and loop (AioFile) and filestream (the .NET baseline)");
            }
        }
        if (request.WalFlushGiven && !request.Rw.Contains(ReadWriteMode.Wal))
        {
            throw new UsageException("--wal-flush: it says how --rw wal's appenders flush, and no --rw wal is asked for");
        }
        if (request.Jobs > 1 && request.Rw.Contains(ReadWriteMode.Wal))
        {
            throw new UsageException($"--jobs {request.Jobs}: --rw wal runs one log; its appenders are --iodepth");
        }
    }

    /// <summary>O_DIRECT needs every block size to be a multiple of the file's offset/length alignment: say so before
    /// the file is created rather than failing every operation.</summary>
    private static void CheckDirectAlignment(string path, List<BenchCase> cases)
    {
        if (!cases.Any(c => c.Direct))
        {
            return;
        }
        AioAlignment alignment = BenchFileChecks.DirectIoAlignment(path);
        foreach (int blockSize in cases.Where(c => c.Direct).Select(c => c.BlockSize).Distinct())
        {
            if (blockSize % alignment.OffsetAlignment != 0)
            {
                throw new UsageException(
                    $"--bs: {blockSize} is not a multiple of {alignment.OffsetAlignment}, the direct-I/O alignment of {path}; use a multiple or --direct 0");
            }
        }
    }

    private static void TryDelete(string path, Terminal terminal)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            terminal.Warn($"could not remove {path}: {e.Message}");
        }
    }
}
