using Spectre.Console;

namespace FileAio.Cli;

/// <summary>The steps of one piece of long work (<see cref="Terminal.WithProgress{T}"/>).</summary>
internal sealed class ProgressScope
{
    private readonly Terminal _terminal;
    private readonly ProgressContext? _context;

    public ProgressScope(Terminal terminal, ProgressContext? context)
    {
        _terminal = terminal;
        _context = context;
    }

    /// <summary>Starts a step of <paramref name="totalBytes"/> (negative: not known beforehand, a bar that shows
    /// activity rather than a share): a new bar on a terminal, else a plain line.</summary>
    public ProgressReporter Start(string description, long totalBytes)
    {
        if (_context is null)
        {
            _terminal.Note($"{description}...");
            return ProgressReporter.None;
        }
        ProgressTask task = _context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, totalBytes));
        task.IsIndeterminate = totalBytes < 0;
        return new ProgressReporter(task);
    }
}
