namespace FileAio;

/// <summary>The outcome of a request, or why it has none yet.</summary>
public enum AioStatus
{
    /// <summary>The operation finished; <see cref="AioRequest.BytesTransferred"/> may be less than asked (a short transfer).</summary>
    Success = 0,

    /// <summary>The request is <see cref="AioRequestState.Submitted"/>: no result yet.</summary>
    InProgress = 1,

    /// <summary>The request is <see cref="AioRequestState.Prepared"/>: it was never accepted by a context.</summary>
    NotSubmitted = 2,

    /// <summary>The request was cancelled before the kernel ran it; its buffer was not touched by the operation. Either
    /// <see cref="AioRequest.Cancel"/> answered <see cref="AioCancelResult.Canceled"/> (and Wait never reports it), or
    /// it answered <see cref="AioCancelResult.InProgress"/> and the kernel stopped the operation later (and Wait
    /// reports it with this status).</summary>
    Canceled = 3,

    /// <summary>The operating system reported an error: see <see cref="AioRequest.ErrorCode"/> and <see cref="AioRequest.ErrorMessage"/>.</summary>
    Failed = 4,
}
