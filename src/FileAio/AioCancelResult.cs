namespace FileAio;

/// <summary>What <see cref="AioRequest.Cancel"/> did. Exactly one of "cancelled" and "reported by Wait" happens to
/// every submitted request.</summary>
public enum AioCancelResult
{
    /// <summary>Cancelled: the request is <see cref="AioRequestState.Completed"/> with <see cref="AioStatus.Canceled"/>,
    /// <see cref="AioContext.Wait"/> will never report it, and the kernel will never touch its buffer again.</summary>
    Canceled = 0,

    /// <summary>The request was not <see cref="AioRequestState.Submitted"/>; nothing changed.</summary>
    NotSubmitted = 1,

    /// <summary>The operation had already finished; <see cref="AioContext.Wait"/> reports it (or is reporting it).</summary>
    AlreadyCompleted = 2,

    /// <summary>The operation is running and cannot be stopped now; <see cref="AioContext.Wait"/> will report it — with
    /// its result, or with <see cref="AioStatus.Canceled"/> when the kernel managed to stop it after all.</summary>
    InProgress = 3,
}
