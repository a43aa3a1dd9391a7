using System.CommandLine;
using FileAio.Cli.Commands;

namespace FileAio.Cli;

/// <summary>
/// The <c>fileaio</c> program: parses the command line, runs the command, and turns every outcome into one of the
/// documented exit codes (<see cref="ExitCodes"/>). Tests call <see cref="RunAsync(string[], Terminal, CancellationToken)"/>
/// in-process with captured writers.
/// </summary>
internal static class FileAioCli
{
    /// <summary>Runs one command line against the process's own console, handling Ctrl+C.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        using var interrupted = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C asks the command to stop and clean up (delete its temporary files); a second one
            // is left to the default handler, which ends the process.
            e.Cancel = !interrupted.IsCancellationRequested;
            interrupted.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(args, Terminal.ForProcess(), interrupted.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs one command line. Never throws: every failure becomes a message on <see cref="Terminal.Error"/>
    /// and an exit code.</summary>
    public static async Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken cancellationToken)
    {
        Command root = BuildRoot(terminal);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (string line in ParseErrorText.Lines(root, parse))
            {
                terminal.Error.WriteLine($"fileaio: {line}");
            }
            terminal.Error.WriteLine(HelpHint(root, parse));
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = terminal.Out,
            Error = terminal.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Ctrl+C is ours (RunAsync above): commands clean up before exiting
        };
        try
        {
            int exitCode = await parse.InvokeAsync(invocation, cancellationToken);
            terminal.Out.Flush(); // a result still buffered must reach its destination before success is reported
            return exitCode;
        }
        catch (UsageException e)
        {
            terminal.Error.WriteLine($"fileaio: {e.Message}");
            terminal.Error.WriteLine(HelpHint(root, parse));
            return ExitCodes.Usage;
        }
        catch (VerificationFailedException e)
        {
            terminal.Error.WriteLine($"fileaio: {e.Message}");
            return ExitCodes.VerificationFailed;
        }
        catch (IoFailureException e)
        {
            terminal.Error.WriteLine($"fileaio: {e.Message}");
            return ExitCodes.IoError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            terminal.Error.WriteLine("fileaio: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An I/O failure no command wrapped with its path: still no stack trace, and the errno when there is one.
            // .NET's message is often the errno's text alone: then the description says it all, once.
            int errno = ErrnoText.FromException(e);
            string described = errno != 0 ? ErrnoText.Describe(errno) : "";
            terminal.Error.WriteLine(
                errno == 0 ? $"fileaio: {e.Message}"
                : described.StartsWith(e.Message, StringComparison.Ordinal) ? $"fileaio: {described}"
                : $"fileaio: {e.Message} ({described})");
            return ExitCodes.IoError;
        }
        catch (Exception e)
        {
            terminal.Error.WriteLine($"fileaio: internal error (a bug in fileaio; please report it): {e}");
            return ExitCodes.InternalError;
        }
    }

    private static string HelpHint(Command root, ParseResult parse)
    {
        string command = parse.CommandResult.Command == root ? "" : $" {parse.CommandResult.Command.Name}";
        return $"Run 'fileaio{command} --help' for usage.";
    }

    /// <summary>The command tree. The root is a plain command named <c>fileaio</c> rather than a
    /// <see cref="RootCommand"/>, whose name is the executable's (<c>FileAio.Cli</c>: the assembly cannot be called
    /// <c>fileaio</c>, which would clash with the library's <c>FileAio.dll</c> on case-insensitive file systems).</summary>
    private static Command BuildRoot(Terminal terminal) =>
        new("fileaio", "Benchmark, copy and verify files with FileAio's real asynchronous I/O (io_uring, O_DIRECT).")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
            InfoCommand.Create(terminal),
            BenchCommand.Create(terminal),
            CopyCommand.Create(terminal),
            VerifyCommand.Create(terminal),
        };
}
