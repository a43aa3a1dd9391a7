namespace FileAio;

/// <summary>Why <see cref="AioContext.Wait"/> returned. Every reason may come with completions; process them.</summary>
public enum AioWaitReason
{
    /// <summary>At least the minimum number of completions was collected.</summary>
    Completed = 0,

    /// <summary>The timeout expired first; <see cref="AioWaitResult.Count"/> completions (possibly fewer than asked, possibly 0) were collected.</summary>
    TimedOut = 1,

    /// <summary>A <see cref="AioContext.Wakeup"/> ended the wait; completions collected before it are returned too.</summary>
    Interrupted = 2,

    /// <summary>Nothing was outstanding and the context was not created with
    /// <see cref="AioContextOptions.WaitWithoutPendingRequests"/>.</summary>
    NoRequests = 3,
}
