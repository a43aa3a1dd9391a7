namespace FileAio;

/// <summary>The operation a prepared request holds (engine-neutral).</summary>
internal enum AioOperationKind : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Flush = 3,
}
