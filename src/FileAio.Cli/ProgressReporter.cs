using Spectre.Console;

namespace FileAio.Cli;

/// <summary>Moves one progress bar forward; does nothing when there is no bar. Thread-safe (Spectre's
/// <see cref="ProgressTask"/> locks), so completion paths on any thread may report.</summary>
internal sealed class ProgressReporter
{
    public static readonly ProgressReporter None = new(null);

    private readonly ProgressTask? _task;

    public ProgressReporter(ProgressTask? task) => _task = task;

    /// <summary>Moves the bar on by <paramref name="bytes"/>; a bar of unknown length only shows activity.</summary>
    public void Advance(long bytes)
    {
        if (_task is { IsIndeterminate: false })
        {
            _task.Increment(bytes);
        }
    }

    /// <summary>Fills the bar (the step is done, even if it had less to do than announced).</summary>
    public void Complete()
    {
        if (_task is not null)
        {
            _task.IsIndeterminate = false;
            _task.Value = _task.MaxValue;
            _task.StopTask();
        }
    }
}
