namespace FileAio.Cli;

/// <summary>Data read back is not what was written (<c>copy --verify</c>). Exit code 1; the message says where.</summary>
internal sealed class VerificationFailedException : Exception
{
    public VerificationFailedException(string message)
        : base(message)
    {
    }

    public VerificationFailedException()
    {
    }

    public VerificationFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
