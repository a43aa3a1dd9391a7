using FASTER.core;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>FasterKV on a FileAioDevice with a memory budget far below the data, so that reads go to disk: upsert, read,
/// RMW, delete, concurrent sessions, and checkpoints (fold-over and snapshot) recovered into a new store.</summary>
public abstract class FasterKvTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int Keys = 20_000; // 20,000 records of 24 bytes: 480 KB of log against 32 KiB of memory

    private static readonly SimpleFunctions<long, long> s_functions = new((old, delta) => old + delta);

    private FasterKV<long, long> OpenStore(IDevice device) => new(1L << 14,
        new LogSettings { LogDevice = device, PageSizeBits = 12, MemorySizeBits = 15, SegmentSizeBits = 18 },
        new CheckpointSettings { CheckpointManager = NewCheckpoints("checkpoints") });

    private static long ValueOf(long key) => key * 31 + 7;

    [Fact]
    public void UpsertReadRmwDelete_WithMemoryFarBelowTheData_ReadFromDisk()
    {
        using FileAioDevice device = NewDevice("hlog.log");
        using FasterKV<long, long> store = OpenStore(device);
        using var session = store.NewSession(s_functions);
        for (long key = 0; key < Keys; key++)
        {
            session.Upsert(key, ValueOf(key));
        }

        int pending = 0;
        for (long key = 0; key < Keys; key += 7)
        {
            (Status status, long value) = Read(session, key, () => pending++);
            Assert.True(status.Found, $"key {key}: {status}");
            Assert.Equal(ValueOf(key), value);
        }
        Assert.True(pending > Keys / 7 / 2, $"only {pending} reads went to disk");

        for (long key = 0; key < Keys; key += 3)
        {
            Status status = session.RMW(key, 1000);
            if (status.IsPending)
            {
                session.CompletePending(wait: true);
            }
        }
        for (long key = 1; key < Keys; key += 10)
        {
            session.Delete(key);
        }
        session.CompletePending(wait: true);

        for (long key = 0; key < Keys; key += 5)
        {
            (Status status, long value) = Read(session, key);
            if (key % 10 == 1)
            {
                Assert.True(status.NotFound, $"deleted key {key}: {status}");
            }
            else
            {
                Assert.True(status.Found, $"key {key}: {status}");
                Assert.Equal(ValueOf(key) + (key % 3 == 0 ? 1000 : 0), value);
            }
        }
    }

    [Fact]
    public async Task ConcurrentSessions_EachWriteAndReadBackTheirOwnKeys()
    {
        const int Sessions = 4;
        using FileAioDevice device = NewDevice("hlog.log");
        using FasterKV<long, long> store = OpenStore(device);
        Task[] workers = [.. Enumerable.Range(0, Sessions).Select(s => Task.Run(() =>
        {
            using var session = store.NewSession(s_functions);
            for (long key = s; key < Keys; key += Sessions)
            {
                session.Upsert(key, ValueOf(key));
            }
            for (long key = s; key < Keys; key += Sessions * 3)
            {
                (Status status, long value) = Read(session, key);
                Assert.True(status.Found, $"key {key}: {status}");
                Assert.Equal(ValueOf(key), value);
            }
        }))];
        await Task.WhenAll(workers);
    }

    [Theory]
    [InlineData(CheckpointType.FoldOver)]
    [InlineData(CheckpointType.Snapshot)]
    public async Task Checkpoint_ThenRecoverIntoANewStore_KeepsEveryCheckpointedRecord(CheckpointType type)
    {
        using (FileAioDevice device = NewDevice("hlog.log"))
        using (FasterKV<long, long> store = OpenStore(device))
        {
            using (var session = store.NewSession(s_functions))
            {
                for (long key = 0; key < Keys; key++)
                {
                    session.Upsert(key, ValueOf(key));
                }
                for (long key = 0; key < Keys; key += 4)
                {
                    session.RMW(key, 5);
                }
                session.CompletePending(wait: true);
            }
            (bool success, _) = await store.TakeFullCheckpointAsync(type, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(success);
            using var late = store.NewSession(s_functions);
            late.Upsert(Keys + 1, 1); // after the checkpoint: not recovered
        }

        using FileAioDevice reopened = NewDevice("hlog.log", recover: true);
        using FasterKV<long, long> recovered = OpenStore(reopened);
        await recovered.RecoverAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var check = recovered.NewSession(s_functions);
        for (long key = 0; key < Keys; key += 3)
        {
            (Status status, long value) = Read(check, key);
            Assert.True(status.Found, $"key {key}: {status}");
            Assert.Equal(ValueOf(key) + (key % 4 == 0 ? 5 : 0), value);
        }
        Assert.True(Read(check, Keys + 1).Status.NotFound);
    }

    /// <summary>A read, completed: from memory at once, or from the device (FASTER's pending path) when it went there.</summary>
    private static (Status Status, long Value) Read(ClientSession<long, long, long, long, Empty, IFunctions<long, long, long, long, Empty>> session,
        long key, Action? wentPending = null)
    {
        (Status status, long value) = session.Read(key);
        if (!status.IsPending)
        {
            return (status, value);
        }
        wentPending?.Invoke();
        session.CompletePendingWithOutputs(out CompletedOutputIterator<long, long, long, long, Empty> outputs, wait: true);
        using (outputs)
        {
            Assert.True(outputs.Next());
            return (outputs.Current.Status, outputs.Current.Output);
        }
    }
}
