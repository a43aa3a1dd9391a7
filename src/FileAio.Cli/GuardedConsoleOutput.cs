using System.Text;
using Spectre.Console;

namespace FileAio.Cli;

/// <summary>Spectre's view of standard output: it writes through the <see cref="StandardOutputWriter"/>, and asks the
/// process's own writer whether it is a terminal and how wide (Spectre recognises the console by its writer, and
/// would take a wrapped one for a file 80 columns wide).</summary>
internal sealed class GuardedConsoleOutput : IAnsiConsoleOutput
{
    private readonly AnsiConsoleOutput _raw;

    public GuardedConsoleOutput(TextWriter raw, TextWriter guarded)
    {
        _raw = new AnsiConsoleOutput(raw);
        Writer = guarded;
    }

    public TextWriter Writer { get; }

    public bool IsTerminal => _raw.IsTerminal;

    public int Width => _raw.Width;

    public int Height => _raw.Height;

    public void SetEncoding(Encoding encoding) => _raw.SetEncoding(encoding);
}
