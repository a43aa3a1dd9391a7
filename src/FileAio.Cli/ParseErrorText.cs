using System.CommandLine;
using System.CommandLine.Parsing;

namespace FileAio.Cli;

/// <summary>The lines a refused command line prints (each after <c>fileaio: </c>): the parser's messages, except at
/// the top level, where System.CommandLine would lead with "Required command was not provided." even when the user did
/// type a command, only a wrong one; and for a missing argument or an unknown word after a command, where its
/// messages name neither the argument ("Required argument missing for command: 'copy'.") nor the command.</summary>
internal static class ParseErrorText
{
    public static IEnumerable<string> Lines(Command root, ParseResult parse)
    {
        if (parse.CommandResult.Command != root)
        {
            return CommandLines(parse);
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

    private static List<string> CommandLines(ParseResult parse)
    {
        CommandResult result = parse.CommandResult;
        Command command = result.Command;
        var lines = new List<string>();
        string[] missing = [.. command.Arguments
            .Where(a => a.Arity.MinimumNumberOfValues > 0
                && (result.GetResult(a) is not ArgumentResult given || given.Tokens.Count < a.Arity.MinimumNumberOfValues))
            .Select(a => a.Name)];
        if (missing.Length > 0)
        {
            string usage = string.Join(' ', command.Arguments.Select(a => a.Name));
            lines.Add($"{command.Name}: {string.Join(" and ", missing)} missing (usage: fileaio {command.Name} {usage} [options])");
        }
        foreach (string token in parse.UnmatchedTokens)
        {
            lines.Add(token.StartsWith('-') ? $"{command.Name}: unknown option '{token}'" : $"{command.Name}: unexpected argument '{token}'");
        }
        // The parser's own words for the two cases above go; everything else (a bad value, say) stays as it is.
        bool ours = lines.Count > 0;
        lines.AddRange(parse.Errors.Select(e => e.Message).Where(m => !ours
            || !(m.StartsWith("Required argument missing", StringComparison.Ordinal)
                || m.StartsWith("Unrecognized command or argument", StringComparison.Ordinal))));
        return [.. lines.Distinct()];
    }
}
