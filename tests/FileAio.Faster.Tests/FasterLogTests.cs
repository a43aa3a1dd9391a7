using FASTER.core;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>FasterLog on a FileAioDevice, its commits through FileAio too: enqueue, commit, scan, truncate, and a
/// reopened log recovered from the device's files.</summary>
public abstract class FasterLogTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int Entries = 3000;

    private FasterLog OpenLog(IDevice device) => new(new FasterLogSettings
    {
        LogDevice = device,
        PageSizeBits = 12,      // 4 KiB pages, 16 KiB of memory, 64 KiB segments: the log spans many segments
        MemorySizeBits = 14,
        SegmentSizeBits = 16,
        LogCommitManager = NewCheckpoints("commits"),
    });

    private static byte[] Entry(int i)
    {
        var entry = new byte[40 + i % 200];
        for (int b = 0; b < entry.Length; b++)
        {
            entry[b] = (byte)(i + b);
        }
        BitConverter.TryWriteBytes(entry, i);
        return entry;
    }

    private static List<int> ScanIndices(FasterLog log)
    {
        var found = new List<int>();
        using FasterLogScanIterator iterator = log.Scan(log.BeginAddress, log.TailAddress);
        while (iterator.GetNext(out byte[] entry, out int length, out _))
        {
            int i = BitConverter.ToInt32(entry);
            Assert.Equal(Entry(i), entry.AsSpan(0, length).ToArray());
            found.Add(i);
        }
        return found;
    }

    [Fact]
    public async Task EnqueueCommitScan_ReturnsEveryEntryInOrder()
    {
        using FileAioDevice device = NewDevice("log");
        using FasterLog log = OpenLog(device);
        for (int i = 0; i < Entries; i++)
        {
            log.Enqueue(Entry(i));
        }
        await log.CommitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, Entries), ScanIndices(log)); // most pages are read back from the device
        Assert.True(System.IO.Directory.GetFiles(Directory, "log.*").Length > 4);
    }

    [Fact]
    public async Task TruncateThenReopen_RecoversTheCommittedLogFromTheDevice()
    {
        var addresses = new long[Entries];
        long truncatedTo;
        using (FileAioDevice device = NewDevice("log"))
        using (FasterLog log = OpenLog(device))
        {
            for (int i = 0; i < Entries; i++)
            {
                addresses[i] = log.Enqueue(Entry(i));
            }
            await log.CommitAsync(TestContext.Current.CancellationToken);
            truncatedTo = addresses[Entries / 2];
            log.TruncateUntil(truncatedTo);
            await log.CommitAsync(TestContext.Current.CancellationToken);
            // The commit shifts the begin address; FASTER removes the segments below it in an epoch action, run by the
            // next thread that refreshes the epoch, and the device then closes and deletes their files in the background.
            for (int wait = 0; File.Exists(PathOf("log.0")) && wait < 1000; wait++)
            {
                log.Commit(); // nothing new to commit: it only refreshes the epoch
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }
            for (int i = 0; i < 10; i++)
            {
                log.Enqueue(Entry(i)); // never committed: not in the recovered log
            }
        }
        Assert.False(File.Exists(PathOf("log.0")), "the segments below the truncation are still there");

        using FileAioDevice reopened = NewDevice("log", recover: true);
        Assert.True(reopened.StartSegment > 0);
        using FasterLog recovered = OpenLog(reopened);
        Assert.Equal(truncatedTo, recovered.BeginAddress);
        Assert.Equal(Enumerable.Range(Entries / 2, Entries - Entries / 2), ScanIndices(recovered));
    }
}
