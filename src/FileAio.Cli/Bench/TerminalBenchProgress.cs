using Spectre.Console;

namespace FileAio.Cli.Bench;

/// <summary>One progress row per case on a terminal, redrawn by hand (auto-refresh off) during warm-up and between
/// cases only, so that drawing never runs inside a measured phase.</summary>
internal sealed class TerminalBenchProgress(ProgressContext context, double warmupSeconds, double runtimeSeconds) : IBenchProgress
{
    private ProgressTask? _task;
    private string _description = "";
    private DateTime _started;

    public void CaseStarting(int number, int total, string description)
    {
        _description = $"[{number}/{total}] {description}";
        _task = context.AddTask(Markup.Escape(_description), maxValue: warmupSeconds + runtimeSeconds);
        _started = DateTime.UtcNow;
        context.Refresh();
    }

    public void WarmingUp(string engine)
    {
        if (engine != "none")
        {
            _description += $" on {engine}";
        }
        Show("warming up");
    }

    public void Tick()
    {
        if (_task is not null)
        {
            _task.Value = Math.Min(warmupSeconds, (DateTime.UtcNow - _started).TotalSeconds);
            context.Refresh();
        }
    }

    public void Measuring()
    {
        if (_task is not null)
        {
            _task.Value = warmupSeconds;
        }
        Show($"measuring {runtimeSeconds:0.#} s, display paused");
    }

    public void CaseDone(BenchResult result)
    {
        if (_task is not null)
        {
            _task.Value = _task.MaxValue;
            _task.Description = Markup.Escape($"{_description}: {result.Iops:N0} IOPS");
            _task.StopTask();
            context.Refresh();
        }
    }

    private void Show(string state)
    {
        if (_task is not null)
        {
            _task.Description = Markup.Escape($"{_description}: {state}");
            context.Refresh();
        }
    }
}
