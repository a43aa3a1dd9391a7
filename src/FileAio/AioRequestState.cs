namespace FileAio;

/// <summary>Where a request is in its life. See <see cref="AioRequest"/> for the transitions.</summary>
public enum AioRequestState
{
    /// <summary>Idle or finished: a new request, one reaped by <see cref="AioContext.Wait"/>, one refused at submit,
    /// or one cancelled. Its result (<see cref="AioRequest.Status"/>, <see cref="AioRequest.BytesTransferred"/>) is final.</summary>
    Completed = 0,

    /// <summary>Holds an operation that has not been handed to the host yet; <see cref="AioContext.Submit"/> accepts it.</summary>
    Prepared = 1,

    /// <summary>Owned by a context and the kernel: its buffer is pinned and must not be touched or freed.</summary>
    Submitted = 2,
}
