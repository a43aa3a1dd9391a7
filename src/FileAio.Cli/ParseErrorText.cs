using System.CommandLine;
using System.CommandLine.Parsing;

namespace FileAio.Cli;

/// <summary>The lines a refused command line prints (each after <c>fileaio: </c>): the parser's messages, except at
/// the top level, where System.CommandLine would lead with "Required command was not provided." even when the user did
/// type a command, only a wrong one.</summary>
internal static class ParseErrorText
{
    public static IEnumerable<string> Lines(Command root, ParseResult parse)
    {
        if (parse.CommandResult.Command != root)
        {
            return parse.Errors.Select(e => e.Message).Distinct();
        }
        string commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
        string? first = parse.UnmatchedTokens.Count > 0 ? parse.UnmatchedTokens[0] : null;
        return
        [
            first is null ? $"no command given (commands: {commands})"
            : first.StartsWith('-') ? $"unknown option '{first}' (commands: {commands})"
            : $"unknown command '{first}' (commands: {commands})",
        ];
    }
}
