using System.CommandLine;
using System.Text.Json;
using FileAio.Cli.Info;

namespace FileAio.Cli.Commands;

/// <summary>
/// <c>fileaio info [PATH] [--json]</c>: which engines run here and why the others do not, the kernel's io_uring
/// features and opcodes, the limits that matter, and for PATH its file system, the engine <c>auto</c> runs there and
/// direct-I/O alignment. The facts are gathered once (<see cref="InfoFacts"/>) and written as text or JSON.
/// </summary>
internal static class InfoCommand
{
    public static Command Create(Terminal terminal)
    {
        var path = new Argument<string?>("PATH")
        {
            Description = "A file or directory: show its file system and what direct I/O needs there.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the tables (fields: docs/cli.md)." };
        var command = new Command("info", "Show which engines work here (and why not), io_uring features, limits, and a path's file system and direct-I/O alignment.")
        {
            path, json,
        };
        command.SetAction(parse =>
        {
            InfoFacts facts = InfoFacts.Gather(parse.GetValue(path));
            if (parse.GetValue(json))
            {
                terminal.Out.WriteLine(JsonSerializer.Serialize(facts, CliJsonContext.Default.InfoFacts));
            }
            else
            {
                InfoText.Write(terminal, facts);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
