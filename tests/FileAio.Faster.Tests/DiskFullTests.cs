using FASTER.core;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>A FasterLog on a file system that fills up: ENOSPC reaches FASTER through the callback as its error code and
/// fails the commit, and what was committed before reads back whole from a reopened log.</summary>
public abstract class DiskFullTests(AioEngineKind engine) : FasterTest(engine)
{
    // The log device is the one under test, on the small file system; the commit records stay on the test's own disk,
    // since FASTER's commit manager does not check the result of its metadata writes (DeviceLogCommitCheckpointManager
    // logs a failed write and goes on).
    private FasterLog OpenLog(IDevice device) => new(new FasterLogSettings
    {
        LogDevice = device,
        PageSizeBits = 12,
        MemorySizeBits = 14,
        SegmentSizeBits = 16,
        LogCommitManager = NewCheckpoints("commits"),
    });

    private static byte[] Entry(int i, int length)
    {
        var entry = new byte[length];
        entry.AsSpan().Fill((byte)i);
        BitConverter.TryWriteBytes(entry, i);
        return entry;
    }

    [Fact]
    public async Task Commit_OnAFullFileSystem_FailsWithEnospcAndKeepsWhatWasCommitted()
    {
        var small = new SmallFileSystem(PathOf("small-fs"), kibibytes: 256);
        const int Committed = 200;
        string logPath = Path.Combine(small.MountPoint, "log");
        try
        {
            using (var device = new FileAioDevice(logPath, options: Options()))
            using (FasterLog log = OpenLog(device))
            {
                for (int i = 0; i < Committed; i++)
                {
                    log.Enqueue(Entry(i, 100));
                }
                await log.CommitAsync(TestContext.Current.CancellationToken);

                // 600 KB more into what is left of 256 KiB. FasterLog writes each page as it fills, so the failure may
                // surface in a later Enqueue (FASTER's canned commit failure) or in the commit itself.
                CommitFailureException failure = await Assert.ThrowsAsync<CommitFailureException>(async () =>
                {
                    for (int i = Committed; i < Committed + 600; i++)
                    {
                        log.Enqueue(Entry(i, 1000));
                    }
                    await log.CommitAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
                });
                Assert.Contains("error code 28", failure.Message, StringComparison.Ordinal); // ENOSPC, as the device reported it
            }

            using var reopened = new FileAioDevice(logPath, recoverDevice: true, options: Options());
            using FasterLog recovered = OpenLog(reopened);
            var found = new List<int>();
            using (FasterLogScanIterator iterator = recovered.Scan(recovered.BeginAddress, recovered.TailAddress))
            {
                while (iterator.GetNext(out byte[] entry, out int length, out _))
                {
                    int i = BitConverter.ToInt32(entry);
                    Assert.Equal(Entry(i, 100), entry.AsSpan(0, length).ToArray());
                    found.Add(i);
                }
            }
            Assert.Equal(Enumerable.Range(0, Committed), found);
        }
        finally
        {
            // Every descriptor on the mount should be closed by now; unmount before the base class checks and deletes.
            // Dispose never throws: a failure of the body above stays the one reported.
            small.Dispose();
        }
        Assert.True(small.UnmountProblem is null, $"The mount was busy (a descriptor left open on it): {small.UnmountProblem}");
    }
}
