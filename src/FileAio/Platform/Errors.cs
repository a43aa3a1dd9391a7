using System.Runtime.InteropServices;

namespace FileAio.Platform;

/// <summary>Turns an operating-system error number into the exception FileAio throws for it: one place, so every
/// message carries the errno, its meaning and the path.</summary>
internal static class Errors
{
    public static IOException IOExceptionFor(int errno, string? path, string? what = null)
    {
        string meaning = Marshal.GetPInvokeErrorMessage(errno);
        string message = (what, path) switch
        {
            (null, null) => $"{meaning} (errno {errno}).",
            (null, _) => $"{meaning} (errno {errno}): '{path}'.",
            (_, null) => $"{Capitalize(what)}: {meaning} (errno {errno}).",
            _ => $"{Capitalize(what)}: {meaning} (errno {errno}): '{path}'.",
        };
        return new IOException(message, errno);
    }

    private static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
