using System.Runtime.InteropServices;
using FileAio.Platform;

namespace FileAio;

/// <summary>
/// Operating-system error numbers (errno) as people read them: the symbolic name, the C library's text, and both
/// together as FileAio writes them in its messages. The numbers are the ones FileAio reports in
/// <see cref="AioRequest.ErrorCode"/> and in the <see cref="Exception.HResult"/> of the <see cref="IOException"/>s it
/// throws.
/// </summary>
/// <remarks>
/// <para>Names follow Linux's numbering, which x86-64 and arm64 share; the table covers the errors file I/O meets
/// (the access, space, device, checksum and cancellation errors, among others). On FreeBSD and macOS only the numbers
/// every Unix shares, 1 (EPERM) to 34 (ERANGE), are named, since those systems number the rest differently; on
/// Windows none are.</para>
/// <para>Threading: every member is a pure function, safe from any thread.</para>
/// </remarks>
public static class AioErrno
{
    /// <summary>The symbolic name of <paramref name="errorCode"/>: <c>"ENOENT"</c> for 2 on Linux. Aliases take the
    /// name of the number they share (EWOULDBLOCK is <c>"EAGAIN"</c>, ENOTSUP is <c>"EOPNOTSUPP"</c>).</summary>
    /// <returns>The name, or <see langword="null"/> for a number FileAio has no name for on this operating system.</returns>
    public static string? GetName(int errorCode) => Errors.NameOf(errorCode);

    /// <summary>The C library's text for <paramref name="errorCode"/> (<c>strerror</c>): <c>"No such file or
    /// directory"</c> for ENOENT. Always a text; an unknown number gets the C library's "Unknown error N".</summary>
    public static string GetMessage(int errorCode) => Marshal.GetPInvokeErrorMessage(errorCode);

    /// <summary>Text, name and number as FileAio's own messages write them: <c>"No such file or directory (ENOENT,
    /// errno 2)"</c>, or <c>"Unknown error 1234 (errno 1234)"</c> for a number without a name.</summary>
    public static string Describe(int errorCode) => Errors.Describe(errorCode);
}
