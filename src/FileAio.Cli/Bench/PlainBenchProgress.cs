namespace FileAio.Cli.Bench;

/// <summary>Plain lines on standard error when it is not a terminal: one as each case starts, one as it ends.</summary>
internal sealed class PlainBenchProgress(Terminal terminal, double warmupSeconds, double runtimeSeconds) : IBenchProgress
{
    private string _description = "";

    public void CaseStarting(int number, int total, string description) => _description = $"[{number}/{total}] {description}";

    public void WarmingUp(string engine)
    {
        if (engine != "none")
        {
            _description += $" on {engine}";
        }
        terminal.Note($"{_description}: {warmupSeconds:0.#} s warm-up + {runtimeSeconds:0.#} s...");
    }

    public void Tick()
    {
    }

    public void Measuring()
    {
    }

    public void CaseDone(BenchResult result) =>
        terminal.Note($"{_description}: {result.Iops:N0} IOPS, p99 {result.Latency.P99:0.#} µs, {result.Errors} errors");
}
