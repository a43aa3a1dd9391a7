using System.Diagnostics.CodeAnalysis;

namespace FileAio;

/// <summary>Throw helpers: keep <c>throw new</c> off the hot paths and every message in one place.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentException(string message, string? paramName = null) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, object? actual, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actual, message);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) =>
        throw new InvalidOperationException(message);

    [DoesNotReturn]
    public static void ThrowObjectDisposed(object instance) =>
        throw new ObjectDisposedException(instance.GetType().FullName);

    [DoesNotReturn]
    public static void ThrowRequestInProgress(string action) =>
        throw new InvalidOperationException(
            $"Cannot {action} a request that is Submitted: it belongs to its context and the kernel until Wait reports it or Cancel returns Canceled.");
}
