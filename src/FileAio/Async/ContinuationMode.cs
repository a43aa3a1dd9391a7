namespace FileAio.Async;

/// <summary>Where the continuation of one life of an <see cref="AsyncOperation"/> runs when its engine loop completes
/// it. Chosen when the operation begins (<see cref="AsyncOperation.Begin"/>), before any engine can see it.</summary>
internal enum ContinuationMode : byte
{
    /// <summary>Queued to the thread pool (or posted to the context the awaiter captured): the default.</summary>
    Queued,

    /// <summary>The loop mode (<see cref="AioLoop"/>): begun by code running on the file's own loop, it resumes that
    /// code inline on the loop thread, with the loop's context current.</summary>
    Loop,

    /// <summary>The file's <see cref="AioFileOptions.InlineCompletions"/>: begun anywhere but by the loop's own code, it
    /// resumes its awaiter inline on the engine thread that completes it, with no synchronization context current —
    /// unless the awaiter captured a context, which it is then posted to as usual.</summary>
    Inline,
}
