using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>The sector size is learned once per file system, not once per directory: FASTER makes a directory for every
/// checkpoint token and a device in it for every commit, so a per-directory cache grew for ever. No I/O is issued, so
/// one engine is enough.</summary>
public sealed class SectorSizeCacheTests() : FasterTest(AioEngineKind.ThreadPool)
{
    [Fact]
    public void Devices_InManyDirectoriesOfOneFileSystem_ProbeItOnce()
    {
        uint sectorSize;
        using (FileAioDevice first = NewDevice("log"))
        {
            sectorSize = first.SectorSize; // this file system is known from here on (perhaps from an earlier test)
        }
        int probes = SectorSizes.Probes;

        for (int token = 0; token < 20; token++)
        {
            using FileAioDevice device = NewDevice("log", under: Path.Combine(Directory, "checkpoints", $"token-{token}"));
            Assert.Equal(sectorSize, device.SectorSize);
        }

        Assert.Equal(probes, SectorSizes.Probes);
    }

    [Fact]
    public void Devices_OnAnotherFileSystem_GetThatFileSystemsAlignment()
    {
        const string SharedMemory = "/dev/shm";
        Assert.SkipUnless(System.IO.Directory.Exists(SharedMemory), "No tmpfs at /dev/shm to compare with.");
        string other = Path.Combine(SharedMemory, "fileaio-faster-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using FileAioDevice here = NewDevice("log");
            using FileAioDevice there = NewDevice("log", direct: false, under: other); // tmpfs has O_DIRECT only from 6.6
            Assert.Equal(Alignment(Directory), here.SectorSize);
            Assert.Equal(Alignment(other), there.SectorSize);
        }
        finally
        {
            System.IO.Directory.Delete(other, recursive: true);
        }
    }

    private static uint Alignment(string directory)
    {
        string probe = Path.Combine(directory, "alignment-probe");
        using (var handle = File.OpenHandle(probe, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            AioAlignment alignment = AioFile.GetAlignment(handle);
            File.Delete(probe);
            return (uint)Math.Max(alignment.MemoryAlignment, alignment.OffsetAlignment);
        }
    }
}
