using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FileAio.Buffers;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>PosixAio checks that count the process's descriptors and threads: run alone (see
/// <see cref="LinuxAioMachineTests"/>), so no other test's descriptors come and go meanwhile.</summary>
[Collection(nameof(LinuxAioMachineTests))]
public sealed class PosixAioMachineTests : FileAioTest
{
    public PosixAioMachineTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipUnless(limits.IsSupported, $"POSIX AIO cannot run here: {limits.UnsupportedReason}");
    }

    [Fact]
    public void CreateAndDispose_1000Cycles_LeaksNoDescriptorAndNoThreadBeyondGlibcsPool()
    {
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        using (AioContext warm = AioContext.Create(4, new AioContextOptions { Engine = AioEngineKind.PosixAio }))
        {
        }
        int fdsBefore = System.IO.Directory.GetFiles("/proc/self/fd").Length;
        int eventFdsBefore = LinuxAioMachineTests.EventFds();
        int threadsBefore = System.IO.Directory.GetDirectories("/proc/self/task").Length;
        var buffer = new byte[512];
        using var request = new AioRequest();
        for (int i = 0; i < 1000; i++)
        {
            using AioContext context = AioContext.Create(4, new AioContextOptions { Engine = AioEngineKind.PosixAio });
            if (i % 10 == 0)
            {
                request.PrepareRead(file, 512L * (i % 128), buffer);
                Assert.Equal(1, context.Submit([request]));
                Assert.Single(PosixAioEngineTests.WaitAll(context, 1));
            }
        }
        // Other descriptors of the runtime come and go; the engine's own are eventfds, and those must balance.
        Assert.True(System.IO.Directory.GetFiles("/proc/self/fd").Length < fdsBefore + 100, "descriptors grew by a hundred or more");
        Assert.Equal(eventFdsBefore, LinuxAioMachineTests.EventFds());
        // glibc's helpers linger up to a second after their last request; at most its 20 may have been added.
        Assert.InRange(System.IO.Directory.GetDirectories("/proc/self/task").Length, 0, threadsBefore + 20);
    }
}
