namespace FileAio.Cli;

/// <summary>An I/O operation failed. Exit code 3; the message names the operation, the path and the errno.</summary>
internal sealed class IoFailureException : Exception
{
    public IoFailureException(string message)
        : base(message)
    {
    }

    public IoFailureException()
    {
    }

    public IoFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The errno, when one is known (0 otherwise).</summary>
    public int Errno { get; init; }

    /// <summary>The file involved, when one is known.</summary>
    public string? Path { get; init; }

    /// <summary>A failure reported by the kernel for one operation (an <see cref="AioRequest"/> that completed with
    /// <see cref="AioStatus.Failed"/>, or a failed system call).</summary>
    public static IoFailureException FromErrno(string operation, string path, int errno, long? offset = null)
    {
        string where = offset is long o ? $" at offset {o}" : "";
        return new IoFailureException($"{operation} {path}{where} failed: {ErrnoText.Describe(errno)}")
        {
            Errno = errno,
            Path = path,
        };
    }

    /// <summary>Wraps an exception thrown by .NET or FileAio while working on <paramref name="path"/>: its errno is
    /// recovered (on Unix, .NET and FileAio put it in <see cref="Exception.HResult"/>) so the message always has one.</summary>
    public static IoFailureException FromException(string operation, string path, Exception exception)
    {
        int errno = ErrnoText.FromException(exception);
        string detail = errno != 0 ? ErrnoText.Describe(errno) : exception.Message;
        return new IoFailureException($"{operation} {path} failed: {detail}", exception)
        {
            Errno = errno,
            Path = path,
        };
    }
}
