using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace FileAio.Cli.Commands;

/// <summary>
/// The <see cref="Option{T}.CustomParser"/>s of the commands, and the readers they share. A value that cannot be read,
/// or is out of range, becomes a parse error (<see cref="ArgumentResult.AddError"/>): the command line is refused
/// before any command runs, exit 2, with one line naming the option and the value.
/// </summary>
/// <remarks>Ranges are checked here rather than in <see cref="Option.Validators"/>: System.CommandLine runs an
/// option's validators before converting its value, and reading a value that failed to convert throws, so a validator
/// cannot safely look at a number the user mistyped.</remarks>
internal static class OptionParsers
{
    /// <summary>The option's single value through <paramref name="read"/>.</summary>
    public static T One<T>(ArgumentResult result, ValueReader<T> read)
    {
        string text = result.Tokens[0].Value; // the parser checks the arity (exactly one value) before calling this
        if (read(text, out T value) is string problem)
        {
            result.AddError($"{OptionName(result)}: {problem}");
        }
        return value;
    }

    /// <summary>The items of a list option: repeated (<c>--api a --api b</c>) or comma-separated (<c>--api a,b</c>).</summary>
    public static T[] List<T>(ArgumentResult result, ValueReader<T> read)
    {
        var values = new List<T>();
        foreach (string item in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (read(item, out T value) is string problem)
            {
                result.AddError($"{OptionName(result)}: {problem}");
                return [];
            }
            values.Add(value);
        }
        if (values.Count == 0)
        {
            result.AddError($"{OptionName(result)} needs a value");
        }
        return [.. values];
    }

    /// <summary>A list option's values, or <paramref name="fallback"/> when it was not given. (Not a
    /// <see cref="Option{T}.DefaultValueFactory"/>: help would print the default list by its items' type names, so the
    /// help text names it; and an absent array option reads as empty, not null.)</summary>
    public static T[] ListOr<T>(ParseResult parse, Option<T[]> option, T[] fallback) =>
        parse.GetResult(option) is null ? fallback : parse.GetValue(option)!;

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static ValueReader<int> WholeNumber(int min, int max) => (string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max
            ? null
            : $"'{text}' must be a whole number from {min.ToString("N0", CultureInfo.InvariantCulture)} to {max.ToString("N0", CultureInfo.InvariantCulture)}";

    /// <summary>A duration in seconds (a decimal number), more than 0 or, with <paramref name="zeroAllowed"/>, 0 or
    /// more; at most a day.</summary>
    public static ValueReader<double> Seconds(bool zeroAllowed) => (string text, out double value) =>
    {
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return $"'{text}' is not a number of seconds";
        }
        bool inRange = (zeroAllowed ? value >= 0 : value > 0) && value <= 86_400;
        return inRange ? null : $"'{text}' must be {(zeroAllowed ? "0 or more" : "more than 0")} seconds (at most a day)";
    };

    /// <summary>A block size: a size (4k, 1m) from 1 byte to 256m (each operation in flight has a buffer of this size:
    /// keep them sane).</summary>
    public static string? BlockSize(string text, out int value)
    {
        const long max = 256L << 20;
        value = 0;
        if (Sizes.Read(text, out long size) is string problem)
        {
            return problem;
        }
        if (size <= 0 || size > max)
        {
            return $"'{text}' must be from 1 byte to 256m";
        }
        value = (int)size;
        return null;
    }

    /// <summary>A yes/no word: 1/0, true/false, yes/no, on/off.</summary>
    public static string? Switch(string text, out bool value)
    {
        (bool known, value) = text.ToLowerInvariant() switch
        {
            "1" or "true" or "yes" or "on" => (true, true),
            "0" or "false" or "no" or "off" => (true, false),
            _ => (false, false),
        };
        return known ? null : $"'{text}' is not 0/1, true/false, yes/no or on/off";
    }

    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
