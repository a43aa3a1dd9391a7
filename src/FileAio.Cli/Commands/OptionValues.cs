using System.CommandLine;
using System.Globalization;

namespace FileAio.Cli.Commands;

/// <summary>Reading option values that the parser leaves as text (sizes, lists, optional booleans), with messages that
/// name the option.</summary>
internal static class OptionValues
{
    /// <summary>The items of a list option: repeated (<c>--api a --api b</c>) or comma-separated (<c>--api a,b</c>).
    /// Null when the option was not given.</summary>
    public static IReadOnlyList<string>? List(ParseResult parse, Option<string[]> option)
    {
        if (parse.GetResult(option) is null)
        {
            return null;
        }
        string[] items = [.. (parse.GetValue(option) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
        if (items.Length == 0)
        {
            throw new UsageException($"{option.Name} needs a value");
        }
        return items;
    }

    public static int PositiveInt(string text, string option, int max = int.MaxValue)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0 || value > max)
        {
            throw new UsageException($"{option}: '{text}' must be a whole number from 1 to {max.ToString("N0", CultureInfo.InvariantCulture)}");
        }
        return value;
    }

    /// <summary>An integer option the parser already read: checks its range.</summary>
    public static int InRange(int value, string option, int max)
    {
        if (value <= 0 || value > max)
        {
            throw new UsageException($"{option}: {value.ToString(CultureInfo.InvariantCulture)} must be from 1 to {max.ToString("N0", CultureInfo.InvariantCulture)}");
        }
        return value;
    }

    /// <summary>A block size: a size (4k, 1m) that is positive and fits one buffer.</summary>
    public static int BlockSize(string text, string option)
    {
        long value = Sizes.Parse(text, option);
        const long max = 256L << 20; // one AlignedBuffer per operation in flight: keep them sane
        if (value <= 0 || value > max)
        {
            throw new UsageException($"{option}: {text} must be from 1 byte to 256m");
        }
        return (int)value;
    }

    public static double Seconds(double value, string option, bool zeroAllowed)
    {
        if (double.IsNaN(value) || value < 0 || (!zeroAllowed && value == 0) || value > 86_400)
        {
            throw new UsageException($"{option}: {value.ToString(CultureInfo.InvariantCulture)} must be {(zeroAllowed ? "0 or more" : "more than 0")} seconds (at most a day)");
        }
        return value;
    }

    /// <summary>A yes/no word: 1/0, true/false, yes/no, on/off.</summary>
    public static bool Boolean(string text, string option) => text.ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => throw new UsageException($"{option}: '{text}' is not 0/1, true/false, yes/no or on/off"),
    };
}
