using System.Reflection;
using FASTER.core;
using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>Which FASTER callbacks run on the engine thread (<see cref="FileAioDeviceOptions.InlineReadCallbacks"/>):
/// the context types on the list, by FASTER's own types; where each kind of I/O calls back on a real device; and FasterKV
/// reading from disk with the option on and off.</summary>
public sealed class EngineThreadCallbacksClassificationTests
{
    private static readonly Assembly s_faster = typeof(IDevice).Assembly;

    internal static Type AsyncGetFromDiskResultOf<TKey, TValue>() =>
        s_faster.GetType("FASTER.core.AsyncGetFromDiskResult`1", throwOnError: true)!.MakeGenericType(typeof(AsyncIOContext<TKey, TValue>));

    internal static Type SimpleReadContext => s_faster.GetType("FASTER.core.SimpleReadContext", throwOnError: true)!;

    /// <summary>A context object of the type FASTER would pass, as FASTER boxes or allocates it.</summary>
    internal static object ContextOf(Type type) => Activator.CreateInstance(type, nonPublic: true)!;

    public static TheoryData<string, Type, bool> Contexts => new()
    {
        { "FasterKV record read, long/long", AsyncGetFromDiskResultOf<long, long>(), true },
        { "FasterKV record read, SpanByte/SpanByte", AsyncGetFromDiskResultOf<SpanByte, SpanByte>(), true },
        { "FasterLog random read", SimpleReadContext, true },
        // The GenericAllocator's callback reads the object log and deserializes with user serializers.
        { "FasterKV record read, string key", AsyncGetFromDiskResultOf<string, long>(), false },
        { "FasterKV record read, class value", AsyncGetFromDiskResultOf<long, byte[]>(), false },
        { "page read (recovery, scans)", typeof(PageAsyncReadResult<Empty>), false },
        { "page flush", typeof(PageAsyncFlushResult<Empty>), false },
        { "a boxed long", typeof(long), false },
        { "a user's object", typeof(object), false },
    };

    [Theory]
    [MemberData(nameof(Contexts))]
    public void Contexts_OnTheListRunInline_OthersHop(string what, Type type, bool inline)
    {
        Assert.True(EngineThreadCallbacks.Classify(type) == inline, $"{what}: {type}");
        // Through the per-I/O path too, which also checks the FASTER version the list was verified against.
        Assert.Equal(inline, EngineThreadCallbacks.RunsInline(ContextOf(type)));
    }

    [Fact]
    public void NoContext_Hops() => Assert.False(EngineThreadCallbacks.RunsInline(null));
}

public abstract class EngineThreadCallbacksTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int SegmentBits = 20;

    /// <summary>Where a callback ran.</summary>
    private readonly record struct Where(uint Error, bool EngineThread, bool PoolThread, bool InsideTheCall);

    private static bool OnEngineThread => Thread.CurrentThread.Name?.StartsWith("FileAio engine", StringComparison.Ordinal) == true;

    private FileAioDevice NewDevice(bool inline, bool direct = true) =>
        new(PathOf("log"), options: new FileAioDeviceOptions { Engine = Engine, Direct = direct, InlineReadCallbacks = inline });

    private static Where Run(Action<DeviceIOCompletionCallback> issue)
    {
        using var done = new ManualResetEventSlim();
        int issuer = Environment.CurrentManagedThreadId;
        bool issuing = true;
        Where where = default;
        issue((error, _, _) =>
        {
            where = new Where(error, OnEngineThread, Thread.CurrentThread.IsThreadPoolThread,
                Volatile.Read(ref issuing) && Environment.CurrentManagedThreadId == issuer);
            done.Set();
        });
        Volatile.Write(ref issuing, false);
        Assert.True(done.Wait(TimeSpan.FromSeconds(30)), "the device never called back");
        return where;
    }

    private static IEnumerable<object> ListedContexts() =>
    [
        EngineThreadCallbacksClassificationTests.ContextOf(EngineThreadCallbacksClassificationTests.AsyncGetFromDiskResultOf<long, long>()),
        EngineThreadCallbacksClassificationTests.ContextOf(EngineThreadCallbacksClassificationTests.SimpleReadContext),
    ];

    [Fact]
    public void RecordRead_FromTheDisk_CallsBackOnTheEngineThread()
    {
        using FileAioDevice device = NewDevice(inline: true);
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode);

        foreach (object context in ListedContexts())
        {
            Where where = Run(cb => device.ReadAsync(0, buffer.Address, 4096, cb, context));
            Assert.Equal(new Where(0, EngineThread: true, PoolThread: false, InsideTheCall: false), where);
        }
    }

    [Fact]
    public void RecordRead_WithTheOptionOff_CallsBackOnThePool()
    {
        using FileAioDevice device = NewDevice(inline: false);
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode);

        foreach (object context in ListedContexts())
        {
            Where where = Run(cb => device.ReadAsync(0, buffer.Address, 4096, cb, context));
            Assert.Equal(new Where(0, EngineThread: false, PoolThread: true, InsideTheCall: false), where);
        }
    }

    [Fact]
    public void WritesAndOtherReads_CallBackOnThePool()
    {
        using FileAioDevice device = NewDevice(inline: true);
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        object listed = ListedContexts().First();
        var pool = new Where(0, EngineThread: false, PoolThread: true, InsideTheCall: false);

        Assert.Equal(pool, Run(cb => device.WriteAsync(buffer.Address, 0, 4096, cb, listed))); // a write, whatever its context
        foreach (Type other in new[] { typeof(PageAsyncReadResult<Empty>), EngineThreadCallbacksClassificationTests.AsyncGetFromDiskResultOf<string, long>(), typeof(object) })
        {
            object context = EngineThreadCallbacksClassificationTests.ContextOf(other);
            Assert.Equal(pool, Run(cb => device.ReadAsync(0, buffer.Address, 4096, cb, context)));
        }
    }

    [Fact]
    public void RecordRead_ThatFailsOnTheEngineThread_CallsBackOnThePool()
    {
        // A FIFO holds the read in the engine until the segment's removal closes it: it fails there, with EBADF, and
        // FASTER would log the failure through the store's logger, user code.
        Fifo.Create(PathOf("log.0"));
        using FileAioDevice device = NewDevice(inline: true, direct: false); // O_DIRECT does not apply to a FIFO
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        object listed = ListedContexts().First();

        Where where = Run(cb =>
        {
            device.ReadAsync(0, buffer.Address, 512, cb, listed);
            Thread.Sleep(100);
            device.RemoveSegment(0);
        });

        Assert.Equal(new Where(9, EngineThread: false, PoolThread: true, InsideTheCall: false), where);
    }

    [Fact]
    public void RecordRead_ServedByThePageCacheInsideReadAsync_CallsBackOnThePoolAfterwards()
    {
        using FileAioDevice device = NewDevice(inline: true, direct: false);
        device.Initialize(1L << SegmentBits);
        using var buffer = new AlignedBuffer(4096, 4096);
        Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address, 0, 4096).ErrorCode); // buffered: now in the page cache

        foreach (object context in ListedContexts())
        {
            Where where = Run(cb => device.ReadAsync(0, buffer.Address, 4096, cb, context));
            Assert.Equal(new Where(0, EngineThread: false, PoolThread: true, InsideTheCall: false), where);
        }
    }

    /// <summary>FASTER's comparer for long keys, counting the comparisons made on an engine thread: FASTER compares the
    /// key it read with the one asked for inside the read's callback.</summary>
    private sealed class CountingComparer : IFasterEqualityComparer<long>
    {
        public int OnEngineThread;

        public bool Equals(ref long k1, ref long k2)
        {
            if (EngineThreadCallbacksTests.OnEngineThread)
            {
                Interlocked.Increment(ref OnEngineThread);
            }
            return k1 == k2;
        }

        public long GetHashCode64(ref long k) => Utility.GetHashCode(k);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FasterKv_ReadsFromDisk_GiveTheSameResults_InlineOrNot(bool inline)
    {
        const int Keys = 20_000; // 480 KB of log against 32 KiB of memory: nearly every read goes to the disk
        var comparer = new CountingComparer();
        using FileAioDevice device = NewDevice(inline);
        using var store = new FasterKV<long, long>(1L << 14,
            new LogSettings { LogDevice = device, PageSizeBits = 12, MemorySizeBits = 15, SegmentSizeBits = 18 },
            comparer: comparer);
        using var session = store.NewSession(new SimpleFunctions<long, long>());
        for (long key = 0; key < Keys; key++)
        {
            session.Upsert(key, key * 31 + 7);
        }

        // Many reads pending at once, completed together, as a YCSB client does.
        var values = new long[Keys];
        var found = new bool[Keys];
        int pending = 0, outstanding = 0;
        for (long key = 0; key < Keys; key++)
        {
            long output = 0;
            Status status = session.Read(ref key, ref output);
            if (status.IsPending)
            {
                pending++;
                outstanding++;
            }
            else
            {
                (found[key], values[key]) = (status.Found, output);
            }
            if (outstanding == 64 || key == Keys - 1)
            {
                outstanding = 0;
                session.CompletePendingWithOutputs(out var outputs, wait: true);
                using (outputs)
                {
                    while (outputs.Next())
                    {
                        ref var done = ref outputs.Current;
                        (found[done.Key], values[done.Key]) = (done.Status.Found, done.Output);
                    }
                }
            }
        }

        Assert.True(pending > Keys / 2, $"only {pending} reads went to the disk");
        for (long key = 0; key < Keys; key++)
        {
            Assert.True(found[key], $"key {key} not found");
            Assert.Equal(key * 31 + 7, values[key]);
        }
        if (inline)
        {
            Assert.True(comparer.OnEngineThread >= pending / 2, $"{comparer.OnEngineThread} of {pending} disk reads compared on an engine thread");
        }
        else
        {
            Assert.Equal(0, comparer.OnEngineThread);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FasterLog_RandomReads_GiveTheSameEntries_InlineOrNot(bool inline)
    {
        // Entries longer than a sector: FasterLog's ReadAsync with no estimated length reads the header's sector first,
        // and its callback issues the longer read itself — with the option on, from the engine thread.
        const int Entries = 200;
        static byte[] Entry(int i) => [.. Enumerable.Range(0, 1500 + i).Select(b => (byte)(i * 7 + b))];
        using FileAioDevice device = NewDevice(inline);
        using var log = new FasterLog(new FasterLogSettings
        {
            LogDevice = device, PageSizeBits = 14, MemorySizeBits = 16, SegmentSizeBits = 20,
            LogCommitManager = NewCheckpoints("commits"),
        });
        var addresses = new long[Entries];
        for (int i = 0; i < Entries; i++)
        {
            addresses[i] = log.Enqueue(Entry(i));
        }
        await log.CommitAsync(TestContext.Current.CancellationToken);

        for (int i = 0; i < Entries; i++)
        {
            (byte[] entry, int length) = await log.ReadAsync(addresses[i], token: TestContext.Current.CancellationToken);
            Assert.Equal(Entry(i), entry.AsSpan(0, length).ToArray());
        }
    }
}
