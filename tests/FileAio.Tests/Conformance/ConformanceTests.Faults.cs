using System.Diagnostics;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §7: real I/O errors come back as values on the request, with errno and a readable message.
public abstract partial class ConformanceTests
{
    [Fact]
    public void Write_OnAFullFileSystem_FailsWithEnospcAndLosesNothing()
    {
        Require.Linux();
        Require.Root();
        string mountPoint = PathOf("small-fs");
        System.IO.Directory.CreateDirectory(mountPoint);
        RunTool("mount", $"-t tmpfs -o size=256k tmpfs {mountPoint}");
        try
        {
            AioContext context = NewContext();
            using (SafeFileHandle file = AioFile.OpenHandle(Path.Combine(mountPoint, "full.bin"), FileMode.CreateNew, FileAccess.ReadWrite))
            {
                AioRequest[] writes = NewRequests(16);
                for (int i = 0; i < writes.Length; i++)
                {
                    writes[i].PrepareWrite(file, i * 65536L, new byte[65536], i); // 1 MiB into 256 KiB
                }
                SubmitAll(context, writes);
                List<AioRequest> reported = WaitForAll(context, writes.Length);
                Assert.Equal(writes.Length, reported.Distinct().Count());

                AioRequest[] failed = writes.Where(w => w.Status == AioStatus.Failed).ToArray();
                Assert.NotEmpty(failed);
                Assert.All(failed, w =>
                {
                    Assert.Equal(28, w.ErrorCode); // ENOSPC
                    Assert.Contains("space", w.ErrorMessage, StringComparison.OrdinalIgnoreCase);
                });
                long written = writes.Where(w => w.Status == AioStatus.Success).Sum(w => w.BytesTransferred);
                Assert.InRange(written, 1, 256 * 1024);
            }
            context.Dispose();
        }
        finally
        {
            RunTool("umount", mountPoint);
        }
    }

    private static void RunTool(string tool, string arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {arguments} failed: {error}");
    }
}
