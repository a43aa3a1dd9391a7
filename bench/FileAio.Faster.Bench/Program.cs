using FileAio;
using FileAio.Faster.Bench;

// Issue 14's benchmark: see docs/faster.md and bench/compare-faster.sh. One device, one case, per process.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is FormatException or OverflowException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 1;
}

// A named engine that cannot run here is a clean "no" (exit 2) with FileAio's own reason, so scripts can fall back.
if (options.IsFileAio || options.Mode == "check")
{
    AioLimits limits = AioContext.GetLimits(options.Engine);
    if (!limits.IsSupported)
    {
        Console.Error.WriteLine($"engine {options.EngineName} is not supported here: {limits.UnsupportedReason}");
        return 2;
    }
    if (options.Mode == "check")
    {
        Console.WriteLine($"engine {options.EngineName}: {limits.Engine} runs here");
        return 0;
    }
}

Report report = options.Mode == "kv" ? KvBench.Run(options) : LogBench.Run(options);
report.Print(options.Json);
return 0;
