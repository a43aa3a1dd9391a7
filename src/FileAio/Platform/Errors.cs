using System.Runtime.InteropServices;
using FileAio.Interop;

namespace FileAio.Platform;

/// <summary>How FileAio words an operating-system error number, and the exception it throws for one: one place, so
/// every message carries the errno's text, its symbolic name, its number and the path.</summary>
internal static class Errors
{
    public static IOException IOExceptionFor(int errno, string? path, string? what = null)
    {
        string described = Describe(errno);
        string message = (what, path) switch
        {
            (null, null) => $"{described}.",
            (null, _) => $"{described}: '{path}'.",
            (_, null) => $"{Capitalize(what)}: {described}.",
            _ => $"{Capitalize(what)}: {described}: '{path}'.",
        };
        return new IOException(message, errno);
    }

    /// <summary>"No such file or directory (ENOENT, errno 2)"; "Unknown error 1234 (errno 1234)" without a name.</summary>
    public static string Describe(int errno)
    {
        string meaning = Marshal.GetPInvokeErrorMessage(errno);
        return NameOf(errno) is string name ? $"{meaning} ({name}, errno {errno})" : $"{meaning} (errno {errno})";
    }

    /// <summary>The symbolic name of <paramref name="errno"/> on this operating system, or null. The table is Linux's;
    /// elsewhere only the numbers every Unix shares are named (other systems number the rest differently, and
    /// Windows reports Win32 error codes, not errnos).</summary>
    public static string? NameOf(int errno)
    {
        if (OperatingSystem.IsLinux() || (!OperatingSystem.IsWindows() && errno <= Errno.LastCommonUnix))
        {
            return Errno.NameOf(errno);
        }
        return null;
    }

    private static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
