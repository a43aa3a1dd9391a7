using Spectre.Console;

namespace FileAio.Cli;

/// <summary>
/// Where a command writes, and what it may draw there. Results go to <see cref="Out"/> (tables, JSON, bad blocks);
/// progress, notes and errors go to <see cref="Error"/>, so that <c>--json</c> output stays one clean document.
/// Progress bars are drawn only when standard error is a terminal; otherwise a long step prints one plain line when
/// it starts and one when it ends.
/// </summary>
internal sealed class Terminal
{
    // Wide enough for the bench table on one line when the output is a file or a pipe (Spectre otherwise assumes 80).
    private const int RedirectedWidth = 200;

    private readonly bool _outputIsTerminal;
    private readonly TextWriter _rawOut;
    private IAnsiConsole? _outConsole;
    private IAnsiConsole? _errorConsole;

    public Terminal(TextWriter output, TextWriter error, bool outputIsTerminal = false, bool errorIsTerminal = false)
    {
        _rawOut = output;
        Out = new StandardOutputWriter(output);
        Error = new StandardErrorWriter(error);
        _outputIsTerminal = outputIsTerminal;
        ShowsProgress = errorIsTerminal;
    }

    /// <summary>The process's own standard output and error.</summary>
    public static Terminal ForProcess() =>
        new(Console.Out, Console.Error, !Console.IsOutputRedirected, !Console.IsErrorRedirected);

    /// <summary>Standard output; a write that fails there is an <see cref="IoFailureException"/> that says so.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error; a write that fails there is dropped (<see cref="StandardErrorWriter"/>).</summary>
    public TextWriter Error { get; }

    /// <summary>Standard error is a terminal: long work draws a live progress bar there.</summary>
    public bool ShowsProgress { get; }

    /// <summary>Spectre console over <see cref="Out"/>, for tables: colours only on a terminal.</summary>
    public IAnsiConsole OutConsole => _outConsole ??= CreateConsole(new GuardedConsoleOutput(_rawOut, Out), _outputIsTerminal);

    /// <summary>Spectre console over <see cref="Error"/>, for progress bars.</summary>
    public IAnsiConsole ErrorConsole => _errorConsole ??= CreateConsole(new AnsiConsoleOutput(Error), ShowsProgress);

    /// <summary>A plain status line on standard error (progress when there is no terminal, notes, warnings).</summary>
    public void Note(string message) => Error.WriteLine(message);

    public void Warn(string message) => Error.WriteLine($"warning: {message}");

    /// <summary>
    /// Runs <paramref name="work"/> (blocking) with progress: when standard error is a terminal, each step that
    /// <paramref name="work"/> starts through the <see cref="ProgressScope"/> gets a live bar with throughput and time
    /// left; otherwise each step prints one plain line when it starts.
    /// </summary>
    public T WithProgress<T>(Func<ProgressScope, T> work)
    {
        if (!ShowsProgress)
        {
            return work(new ProgressScope(this, null));
        }
        return ErrorConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn())
            .Start(context => work(new ProgressScope(this, context)));
    }

    private static IAnsiConsole CreateConsole(IAnsiConsoleOutput output, bool isTerminal)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = output,
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!isTerminal)
        {
            console.Profile.Width = RedirectedWidth;
        }
        return console;
    }
}
