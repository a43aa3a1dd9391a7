using System.Globalization;

namespace FileAio.Cli.Verify;

/// <summary>Seeds as the user types and reads them: hexadecimal with 0x, or decimal.</summary>
internal static class Seeds
{
    public static string Format(ulong seed) => $"0x{seed:x}";

    /// <summary>A <c>--seed</c> value (a <see cref="Commands.ValueReader{T}"/>): null, or why it is not a seed.</summary>
    public static string? Read(string text, out ulong value)
    {
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? null : $"'{text}' is not a number (decimal, or hexadecimal with 0x)";
    }

    /// <summary>A fresh seed for a run: different each time, so a stale block from an earlier run is caught.</summary>
    public static ulong New() => (ulong)Random.Shared.NextInt64() | 1;
}
