namespace FileAio.Engines;

/// <summary>What an <see cref="IoOperation"/> does.</summary>
internal enum OperationKind : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Flush = 3,
}
