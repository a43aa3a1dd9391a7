using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary>Opens the data file for a case: read-only unless the case writes, with real O_DIRECT (FileAio sets it with
/// <c>fcntl</c>; .NET's <see cref="FileOptions"/> cannot) when the case is direct.</summary>
internal static class BenchFileHandles
{
    public static SafeFileHandle Open(string path, BenchCase benchCase)
    {
        FileAccess access = BenchNames.Writes(benchCase.Rw) ? FileAccess.ReadWrite : FileAccess.Read;
        try
        {
            return AioFile.OpenHandle(path, FileMode.Open, access, benchCase.Direct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(benchCase.Direct ? "open (O_DIRECT)" : "open", path, e);
        }
    }

    /// <summary>The buffer alignment a case needs: a page, or more if the file's direct-I/O rule asks for more.</summary>
    public static int BufferAlignment(AioAlignment alignment) => Math.Max(4096, alignment.MemoryAlignment);
}
