namespace FileAio.Cli;

/// <summary>The command line asks for something wrong or impossible here. Exit code 2; the message is printed as it is,
/// without a stack trace, so it must say what is wrong and, where it can, what to do instead.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
