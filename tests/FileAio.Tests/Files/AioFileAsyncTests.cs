using FileAio.Buffers;
using FileAio.Testing;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4, the async layer, on one engine. Each engine joins with a sealed subclass that supplies its host and a way
/// to keep an operation waiting in the kernel.
/// </summary>
public abstract class AioFileAsyncTests : FileAioTest
{
    private AioEngineHost? _host;

    protected abstract AioEngineKind EngineKind { get; }

    /// <summary>A file operation that stays in the kernel until released, and the buffer it would fill.</summary>
    protected abstract (AioFile File, Memory<byte> Buffer, long Offset, Action Release) HeldRead();

    /// <summary>Whether the files are opened with the page-cache fast path (the default); the suite runs both ways, so
    /// that the engine serves every kind of read at least once.</summary>
    protected virtual bool InlineCachedReads => true;

    protected AioEngineHost Host => _host ??= Own(AioEngineHost.Create(EngineKind, threads: 2));

    protected AioFile OpenFile(string path, FileMode mode = FileMode.Open, FileAccess access = FileAccess.ReadWrite,
        bool direct = false, bool? inlineCachedReads = null) =>
        Own(AioFile.Open(path, mode, access, new AioFileOptions
        {
            Host = Host,
            Direct = direct,
            InlineCachedReads = inlineCachedReads ?? InlineCachedReads,
        }));

    private static CancellationToken Timeout => new CancellationTokenSource(LongTimeout).Token;

    [Fact]
    public async Task WriteThenRead_RoundTrips_OnTheEngineAskedFor()
    {
        AioFile file = OpenFile(PathOf("rt.bin"), FileMode.CreateNew);
        Assert.Equal(EngineKind, file.Engine);
        byte[] data = Enumerable.Range(0, 10_000).Select(i => PatternByte(i)).ToArray();
        Assert.Equal(data.Length, await file.WriteAsync(data, 100));
        var back = new byte[data.Length];
        Assert.Equal(data.Length, await file.ReadAsync(back, 100));
        Assert.Equal(data, back);
        Assert.Equal(10_100, file.Length);
        Assert.Equal(0, await file.ReadAsync(new byte[10], 1_000_000)); // past the end: 0, not an error
        Assert.Equal(0, await file.ReadAsync(Memory<byte>.Empty, 0));
    }

    [Fact]
    public async Task VectoredWriteAndRead_FollowBufferOrder()
    {
        AioFile file = OpenFile(PathOf("v.bin"), FileMode.CreateNew);
        Assert.Equal(9, await file.WriteAsync(new ReadOnlyMemory<byte>[] { new byte[] { 1, 2, 3 }, new byte[] { 4, 5 }, new byte[] { 6, 7, 8, 9 } }, 0));
        var a = new byte[4];
        var b = new byte[5];
        Assert.Equal(9, await file.ReadAsync(new Memory<byte>[] { a, b }, 0));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, a);
        Assert.Equal(new byte[] { 5, 6, 7, 8, 9 }, b);
    }

    [Fact]
    public async Task ReadExactly_LoopsUntilFull_AndThrowsEndOfStreamAtTheEnd()
    {
        AioFile file = OpenFile(CreatePatternFile("e.bin", 5000));
        var buffer = new byte[4000];
        await file.ReadExactlyAsync(buffer, 1000);
        AssertPattern(buffer, 1000);
        var e = await Assert.ThrowsAsync<EndOfStreamException>(async () => await file.ReadExactlyAsync(new byte[100], 4950));
        Assert.Contains("e.bin", e.Message);
    }

    [Fact]
    public async Task WriteAll_FlushAndSetLength_LeaveTheFileAsWritten()
    {
        string path = PathOf("w.bin");
        AioFile file = OpenFile(path, FileMode.CreateNew);
        byte[] data = Enumerable.Range(0, 100_000).Select(i => PatternByte(i)).ToArray();
        await file.WriteAllAsync(data, 0);
        await file.FlushAsync();
        await file.FlushAsync(dataOnly: true);
        file.SetLength(50_000);
        Assert.Equal(50_000, file.Length);
        await file.DisposeAsync();
        Assert.Equal(data[..50_000], File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Errors_AreIOExceptionsWithErrnoAndPath()
    {
        AioFile file = OpenFile(CreatePatternFile("ro.bin", 100), FileMode.Open, FileAccess.Read);
        var e = await Assert.ThrowsAsync<IOException>(async () => await file.WriteAsync(new byte[10], 0));
        Assert.Equal(9, e.HResult); // EBADF: the descriptor is read-only
        Assert.Contains("ro.bin", e.Message);
        Assert.Contains("errno 9", e.Message);
    }

    [Fact]
    public async Task ReadOfAnUnreadableBlock_IsAnIOExceptionWithEio_AndTheFileStaysUsable()
    {
        Assert.SkipWhen(FaultyFileSystem.Unavailable is not null, $"faultfs: {FaultyFileSystem.Unavailable}");
        string backing = CreatePatternFile("backing.bin", 64 * 1024);
        FaultyFileSystem faulty = Own(FaultyFileSystem.Mount(backing, PathOf("faultfs"), (20_000, 20_001)));
        AioFile file = OpenFile(faulty.FilePath, FileMode.Open, FileAccess.Read);
        var buffer = new byte[4096];

        var e = await Assert.ThrowsAsync<IOException>(async () => await file.ReadAsync(buffer, 16_384));
        Assert.Equal(5, e.HResult); // EIO
        Assert.Contains("errno 5", e.Message);
        Assert.Contains(faulty.FilePath, e.Message);
        await Assert.ThrowsAsync<IOException>(async () => await file.ReadExactlyAsync(buffer, 18_000));
        await Assert.ThrowsAsync<IOException>(async () =>
            await file.ReadAsync(new Memory<byte>[] { new byte[100], new byte[4096] }, 19_950)); // vectored, too

        // The reads around the bad byte, and a later one, still succeed.
        Assert.Equal(4096, await file.ReadAsync(buffer, 12_288));
        Assert.Equal(PatternByte(12_288), buffer[0]);
        Assert.Equal(PatternByte(16_383), buffer[4095]);
        await file.ReadExactlyAsync(buffer, 20_001);
        Assert.Equal(PatternByte(20_001), buffer[0]);
        await file.DisposeAsync();
    }

    [Fact]
    public async Task BadArguments_ThrowAtTheCall()
    {
        AioFile file = OpenFile(CreatePatternFile("a.bin", 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadAsync(new byte[1], -1));
        Assert.Throws<ArgumentException>(() => file.ReadAsync(Array.Empty<Memory<byte>>(), 0));
        await file.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => file.ReadAsync(new byte[1], 0));
    }

    [Fact]
    public async Task DirectIo_AlignedWorks_MisalignedIsRefusedNamingTheRule()
    {
        Require.Linux();
        AioFile file = OpenFile(CreatePatternFile("d.bin", 1 << 20), direct: true);
        Assert.True(file.IsDirect);
        using var buffer = new AlignedBuffer(8192);
        Assert.Equal(8192, await file.ReadAsync(buffer.Memory, 8192));
        AssertPattern(buffer.Memory.Span, 8192);
        var e = Assert.Throws<ArgumentException>(() => file.ReadAsync(buffer.Memory, 1));
        Assert.Contains("Direct I/O rule", e.Message);
        Assert.Throws<ArgumentException>(() => file.ReadAsync(buffer.Memory[..100], 0));
        Assert.Throws<ArgumentException>(() => file.ReadAsync(buffer.Memory.Slice(256, 4096), 0));
        await file.ReadExactlyAsync(buffer.Memory, 0);
        AssertPattern(buffer.Memory.Span, 0);
    }

    [Fact]
    public async Task Cancellation_BeforeTheCall_DoesNothingAndThrows()
    {
        AioFile file = OpenFile(CreatePatternFile("c.bin", 100));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var buffer = new byte[10];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await file.ReadAsync(buffer, 0, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await file.FlushAsync(false, cancelled.Token));
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Cancellation_WhileInTheKernel_ThrowsAndTheBufferIsNeverWrittenAfterwards()
    {
        (AioFile file, Memory<byte> buffer, long offset, Action release) = HeldRead();
        buffer.Span.Fill(0xEE);
        using var cancel = new CancellationTokenSource();
        ValueTask<int> read = file.ReadAsync(buffer, offset, cancel.Token);
        await Task.Delay(50);
        Assert.False(read.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);

        release(); // now data arrives: a cancelled read must not take it into the buffer
        await Task.Delay(100);
        Assert.All(buffer.ToArray(), b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public async Task Dispose_WaitsForOperationsInFlight()
    {
        (AioFile file, Memory<byte> buffer, long offset, Action release) = HeldRead();
        ValueTask<int> read = file.ReadAsync(buffer, offset, Timeout);
        ValueTask disposing = file.DisposeAsync();
        await Task.Delay(100);
        Assert.False(disposing.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => file.ReadAsync(new byte[1], 0));

        release();
        Assert.True(await read >= 0);
        await disposing;
        Assert.True(file.Handle.IsClosed);
    }

    [Fact]
    [Trait("Category", "Stress")]
    public async Task Stress_64ConcurrentCallersTimes10000VerifiedOperations()
    {
        const int Callers = 64, OperationsEach = 10_000, Region = 8192;
        AioFile file = OpenFile(PathOf("stress.bin"), FileMode.CreateNew);
        file.SetLength((long)Callers * Region);
        long verified = 0;

        async Task Caller(int caller)
        {
            var random = new Random(caller);
            var expected = new byte[Region];
            var write = new byte[512];
            var read = new byte[512];
            long baseOffset = (long)caller * Region;
            for (int i = 0; i < OperationsEach; i++)
            {
                int at = random.Next(Region - 512);
                int length = random.Next(1, 513);
                if ((i & 1) == 0)
                {
                    random.NextBytes(write.AsSpan(0, length));
                    await file.WriteAllAsync(write.AsMemory(0, length), baseOffset + at);
                    write.AsSpan(0, length).CopyTo(expected.AsSpan(at));
                }
                else
                {
                    await file.ReadExactlyAsync(read.AsMemory(0, length), baseOffset + at);
                    if (!read.AsSpan(0, length).SequenceEqual(expected.AsSpan(at, length)))
                    {
                        Assert.Fail($"Caller {caller}, operation {i}: read at {baseOffset + at} differs from what it wrote.");
                    }
                    Interlocked.Increment(ref verified);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(() => Caller(c))));
        Assert.Equal(Callers * OperationsEach / 2, verified);
    }

    [Fact]
    public async Task SteadyState_AllocatesNothingPerOperation()
    {
        const int Loops = 8, Warmup = 20_000, Measured = 120_000;
        AioFile file = OpenFile(CreatePatternFile("alloc.bin", 1 << 20));
        var buffers = Enumerable.Range(0, Loops).Select(_ => new byte[4096]).ToArray();

        async Task Run(int loop, int count)
        {
            byte[] buffer = buffers[loop];
            long offset = loop * 4096L;
            for (int i = 0; i < count; i++)
            {
                await file.ReadAsync(buffer, offset).ConfigureAwait(false);
                offset = (offset + Loops * 4096L) % (1 << 20);
            }
        }

        // Warm up: the pools fill, the JIT settles, the thread pool has its threads.
        var warm = new Task[Loops];
        for (int l = 0; l < Loops; l++)
        {
            warm[l] = Run(l, Warmup / Loops);
        }
        await Task.WhenAll(warm);

        // Three measured windows of 120,000 operations each; the runtime's own occasional allocations (a new thread-pool thread, a timer) land in
        // one window or another, while anything allocated per operation would show in every one of them.
        double best = double.MaxValue;
        long bestBytes = 0;
        for (int window = 0; window < 3; window++)
        {
            var tasks = new Task[Loops];
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int l = 0; l < Loops; l++)
            {
                tasks[l] = Run(l, Measured / Loops);
            }
            await Task.WhenAll(tasks);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            double perOperation = (double)allocated / Measured;
            if (perOperation < best)
            {
                best = perOperation;
                bestBytes = allocated;
            }
        }

        // The measured loops themselves allocate their tasks (a few hundred bytes each); per operation: nothing.
        Assert.True(best < 0.5, $"{bestBytes} bytes over {Measured} operations = {best:F3} bytes per operation, in the best of three windows.");
    }

    private static void AssertPattern(ReadOnlySpan<byte> data, long fileOffset)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != PatternByte(fileOffset + i))
            {
                Assert.Fail($"Byte at {fileOffset + i} is {data[i]}, expected {PatternByte(fileOffset + i)}.");
            }
        }
    }
}

/// <summary>The async layer on io_uring: ring threads that each own their ring.</summary>
public class IoUringAioFileAsyncTests : AioFileAsyncTests
{
    public IoUringAioFileAsyncTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.IoUring);
        Assert.SkipUnless(limits.IsSupported, $"io_uring cannot run here: {limits.UnsupportedReason}");
    }

    protected override AioEngineKind EngineKind => AioEngineKind.IoUring;

    /// <summary>A read from a FIFO nobody writes to: io_uring parks it on the FIFO until data comes.</summary>
    protected override (AioFile File, Memory<byte> Buffer, long Offset, Action Release) HeldRead()
    {
        Require.Linux();
        string path = PathOf("held.fifo");
        Assert.Equal(0, TestNative.mkfifo(path, 0x180));
        AioFile fifo = OpenFile(path, FileMode.Open, FileAccess.ReadWrite);
        int feeder = TestNative.open(path, TestNative.O_RDWR | TestNative.O_NONBLOCK | TestNative.O_CLOEXEC);
        Own(new DescriptorCloser(feeder));
        var released = false;
        void Release()
        {
            if (!released)
            {
                released = true;
                WriteBytes(feeder, 64);
            }
        }
        ReleaseFirstAtEnd(Release);
        return (fifo, new byte[64], 0, Release);
    }

    private static unsafe void WriteBytes(int fd, int count)
    {
        byte* data = stackalloc byte[count];
        new Span<byte>(data, count).Fill(0x5A);
        TestNative.write(fd, data, (nuint)count);
    }

    private sealed class DescriptorCloser(int fd) : IDisposable
    {
        public void Dispose() => TestNative.close(fd);
    }
}

/// <summary>The async layer on the thread-pool engine (what runs where io_uring cannot).</summary>
public class ThreadPoolAioFileAsyncTests : AioFileAsyncTests
{
    protected override AioEngineKind EngineKind => AioEngineKind.ThreadPool;

    /// <summary>The engine's workers are all held in page faults on userfaultfd memory, so one more read waits in
    /// the queue, in the engine's hands, until they are released.</summary>
    protected override (AioFile File, Memory<byte> Buffer, long Offset, Action Release) HeldRead()
    {
        Require.Linux();
        Require.Root();
        // Without the page-cache fast path: it would copy into the stalled buffers on this very thread, and block here.
        AioFile file = OpenFile(CreatePatternFile("held.bin", 1 << 20), inlineCachedReads: false);
        const int Blockers = 64; // more than the engine's 16 workers per context
        UserfaultStall stall = NewStall(Blockers * 4096);
        for (int i = 0; i < Blockers; i++)
        {
            _ = file.ReadAsync(stall.Memory.Slice(i * 4096, 4096), 0).AsTask();
        }
        Assert.True(stall.WaitUntilFaulted(LongTimeout));
        Thread.Sleep(50); // let the workers take their share; the rest of the blockers queue behind them
        return (file, new byte[4096], 4096, stall.Release);
    }
}

/// <summary>The suite on io_uring with the page-cache fast path off: the ring serves every read.</summary>
public sealed class IoUringOnlyAioFileAsyncTests : IoUringAioFileAsyncTests
{
    protected override bool InlineCachedReads => false;
}

/// <summary>The suite on the thread-pool engine with the page-cache fast path off: its workers serve every read.</summary>
public sealed class ThreadPoolOnlyAioFileAsyncTests : ThreadPoolAioFileAsyncTests
{
    protected override bool InlineCachedReads => false;
}
