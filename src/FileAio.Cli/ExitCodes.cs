namespace FileAio.Cli;

/// <summary>What <c>fileaio</c> exits with (docs/cli.md). Scripts rely on these numbers: never renumber.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary><c>verify</c> (or <c>copy --verify</c>) found data that is not what was written.</summary>
    public const int VerificationFailed = 1;

    /// <summary>The command line is wrong, or asks for something that cannot run here (an unsupported engine);
    /// the message says what.</summary>
    public const int Usage = 2;

    /// <summary>An I/O operation failed; the message carries the errno and the path.</summary>
    public const int IoError = 3;

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT (128 + 2).</summary>
    public const int Interrupted = 130;

    /// <summary>A bug in fileaio itself (an unexpected exception): reported with its stack trace, as the only case
    /// that prints one.</summary>
    public const int InternalError = 70; // EX_SOFTWARE from sysexits.h
}
