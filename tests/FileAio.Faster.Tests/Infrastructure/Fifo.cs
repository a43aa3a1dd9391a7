using System.Runtime.InteropServices;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>Named pipes for tests: a segment file that is a FIFO nobody writes to holds a read in FileAio (in the kernel
/// or the engine's poll) until the file is closed, which is how a test gets an I/O that a segment's close must cut off.</summary>
internal static partial class Fifo
{
    public static void Create(string path)
    {
        Assert.True(mkfifo(path, 0x180) == 0, $"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);
}
