using System.Diagnostics;
using FileAio.Testing;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §7: real I/O errors come back as values on the request, with errno and a readable message.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void Write_OnAFullFileSystem_FailsWithEnospcAndLosesNothing(string engine) => Run(engine, () =>
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
    });

    [Theory]
    [EachContext]
    public void Read_OfAnUnreadableBlock_FailsWithEioAndTheOthersStillRead(string engine) => Run(engine, () =>
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        const int BlockSize = 4096;
        string backing = CreatePatternFile("backing.bin", 16 * BlockSize);
        // Block 5 is unreadable: a single bad byte in its middle.
        FaultyFileSystem faulty = Own(FaultyFileSystem.Mount(backing, PathOf("faultfs"), (5 * BlockSize + 100, 5 * BlockSize + 101)));
        AioContext context = NewContext();
        using (SafeFileHandle file = AioFile.OpenHandle(faulty.FilePath, FileMode.Open, FileAccess.Read))
        {
            AioRequest[] reads = NewRequests(16);
            byte[][] buffers = new byte[16][];
            for (int i = 0; i < reads.Length; i++)
            {
                buffers[i] = new byte[BlockSize];
                reads[i].PrepareRead(file, i * (long)BlockSize, buffers[i], i);
            }
            SubmitAll(context, reads);
            List<AioRequest> reported = WaitForAll(context, reads.Length);
            Assert.Equal(reads.Length, reported.Distinct().Count());

            Assert.Equal(AioStatus.Failed, reads[5].Status);
            Assert.Equal(5, reads[5].ErrorCode); // EIO, from the kernel's FUSE client
            Assert.Contains("Input/output", reads[5].ErrorMessage, StringComparison.OrdinalIgnoreCase);
            for (int i = 0; i < reads.Length; i++)
            {
                if (i == 5)
                {
                    continue;
                }
                Assert.Equal(AioStatus.Success, reads[i].Status);
                Assert.Equal(BlockSize, reads[i].BytesTransferred);
                for (int b = 0; b < BlockSize; b += 509)
                {
                    Assert.Equal(PatternByte(i * (long)BlockSize + b), buffers[i][b]);
                }
            }
        }
        context.Dispose();
    });

    // The bad byte is in the read's first FUSE request, so nothing was read before it: the only right answer is EIO. (A
    // read that fails in a later request, after bytes were read, is not here: io_uring misreports it; see
    // Engines/FuseReadTests.cs and docs/engines.md, IoUring, "FUSE".)
    [Theory]
    [EachContext(256 * 1024, 44_640)] // FUSE splits a read this large
    [EachContext(4096, 100)]
    public void Read_WhoseFirstFuseRequestFails_FailsWithEio(string engine, int length, int badAt) => Run(engine, () =>
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        const long ReadOffset = 655_360;
        string backing = CreatePatternFile("backing.bin", 1 << 20);
        FaultyFileSystem faulty = Own(FaultyFileSystem.Mount(backing, PathOf("faultfs"), (ReadOffset + badAt, ReadOffset + badAt + 1)));
        AioContext context = NewContext();
        using (SafeFileHandle file = AioFile.OpenHandle(faulty.FilePath, FileMode.Open, FileAccess.Read))
        {
            AioRequest read = NewRequests(1)[0];
            read.PrepareRead(file, ReadOffset, new byte[length], null);
            SubmitAll(context, [read]);
            WaitForAll(context, 1);

            Assert.Equal(AioStatus.Failed, read.Status);
            Assert.Equal(5, read.ErrorCode); // EIO
        }
        context.Dispose();
    });

    private static void RunTool(string tool, string arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {arguments} failed: {error}");
    }
}
