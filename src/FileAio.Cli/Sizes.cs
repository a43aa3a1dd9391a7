using System.Globalization;

namespace FileAio.Cli;

/// <summary>Sizes as fio writes them: "4096", "4k", "64K", "1m", "1g", "1t" (binary units; an optional trailing
/// "b"/"ib", as in "4KiB", is accepted).</summary>
internal static class Sizes
{
    /// <summary>A size option's value (a <see cref="Commands.ValueReader{T}"/>): null, or why
    /// <paramref name="text"/> is not a size.</summary>
    public static string? Read(string text, out long value) =>
        TryParse(text, out value) ? null : $"'{text}' is not a size (examples: 4096, 4k, 1m, 1g)";

    public static bool TryParse(string text, out long value)
    {
        value = 0;
        string t = text.Trim().ToLowerInvariant();
        if (t.EndsWith("ib", StringComparison.Ordinal))
        {
            t = t[..^2];
        }
        else if (t.Length > 1 && t.EndsWith('b') && char.IsLetter(t[^2]))
        {
            t = t[..^1];
        }
        if (t.Length == 0)
        {
            return false;
        }
        int shift = t[^1] switch
        {
            'k' => 10,
            'm' => 20,
            'g' => 30,
            't' => 40,
            _ => 0,
        };
        string digits = shift == 0 ? t : t[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            return false;
        }
        if (number > long.MaxValue >> shift)
        {
            return false;
        }
        value = number << shift;
        return true;
    }

    /// <summary>"4 KiB", "1 GiB", "10 MiB", "4097 B": the largest binary unit that divides the value, else bytes.</summary>
    public static string Format(long bytes)
    {
        (long unit, string name)[] units = [(1L << 40, "TiB"), (1L << 30, "GiB"), (1L << 20, "MiB"), (1L << 10, "KiB")];
        foreach ((long unit, string name) in units)
        {
            if (bytes >= unit && bytes % unit == 0)
            {
                return $"{bytes / unit} {name}";
            }
        }
        return $"{bytes} B";
    }

    /// <summary>"4k", "1m", "1g" or the plain number: the short form used in tables and file names.</summary>
    public static string Short(long bytes)
    {
        (long unit, string name)[] units = [(1L << 40, "t"), (1L << 30, "g"), (1L << 20, "m"), (1L << 10, "k")];
        foreach ((long unit, string name) in units)
        {
            if (bytes >= unit && bytes % unit == 0)
            {
                return $"{bytes / unit}{name}";
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>"1.5 GiB", "310.2 MiB": a human size with one decimal, for progress and summaries.</summary>
    public static string Human(double bytes)
    {
        string[] names = ["B", "KiB", "MiB", "GiB", "TiB"];
        int i = 0;
        while (bytes >= 1024 && i < names.Length - 1)
        {
            bytes /= 1024;
            i++;
        }
        return i == 0 ? $"{bytes:F0} {names[i]}" : $"{bytes:F1} {names[i]}";
    }
}
