using FileAio;
using FileAio.Bench;

// The comparison harness: see docs/benchmarks.md and bench/compare-fio.sh.
Options options;
try
{
    options = Options.Parse(args);
}
catch (Exception e) when (e is FormatException or OverflowException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 1;
}

// A named engine that cannot run here is a clean "no" (exit 2) with FileAio's own reason, so scripts can fall back.
// The RandomAccess baseline uses no engine.
if (options.Mode is "randread" or "check" or "file" or "loop")
{
    AioLimits limits = AioContext.GetLimits(options.Engine);
    if (!limits.IsSupported)
    {
        Console.Error.WriteLine($"engine {options.EngineName} is not supported here: {limits.UnsupportedReason}");
        return 2;
    }
    if (options.Mode == "check")
    {
        Console.WriteLine($"engine {options.EngineName}: {limits.Engine} runs here (at most {limits.MaxOutstanding} outstanding)");
        return 0;
    }
}

BenchFile.EnsureFilled(options.File!, options.Size);
if (options.Mode == "fill")
{
    return 0;
}

Measurement result;
if (options.Mode == "randread")
{
    using var bench = new AioRandRead(options);
    result = bench.Run();
}
else if (options.Mode == "loop")
{
    result = new LoopRandRead(options).Run();
}
else
{
    result = new RandomAccessRandRead(options, aioFile: options.Mode == "file").Run();
}
result.Print(options.Json);
return 0;
