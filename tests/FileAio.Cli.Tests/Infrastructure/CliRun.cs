namespace FileAio.Cli.Tests.Infrastructure;

/// <summary>What one in-process run of <c>fileaio</c> printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
