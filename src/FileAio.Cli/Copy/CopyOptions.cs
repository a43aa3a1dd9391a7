namespace FileAio.Cli.Copy;

/// <summary>What <c>fileaio copy</c> was asked to do, checked.</summary>
/// <param name="Source">The file to copy (full path).</param>
/// <param name="Destination">The file to create or replace (full path; never a directory).</param>
/// <param name="BlockSize">Bytes per read and per write.</param>
/// <param name="IoDepth">Chunks in flight at once.</param>
internal sealed record CopyOptions(string Source, string Destination, int BlockSize, int IoDepth, bool Direct, AioEngineKind Engine, bool Verify);
