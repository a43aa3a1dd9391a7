using System.Runtime.CompilerServices;
using FileAio.Buffers;
using FileAio.Testing;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>
/// SPEC §4, the async layer, on every host variant (<see cref="TestEngines.Hosts"/>): each test's first parameter names
/// the variant, and <see cref="Use"/> sets it up.
/// </summary>
public sealed class AioFileAsyncTests : FileAioTest
{
    private HostVariant _variant = null!;
    private AioEngineHost? _host;

    private AioEngineKind EngineKind => _variant.Engine.Kind;

    private void Use(string variant)
    {
        _variant = TestEngines.Host(variant);
        _variant.Engine.SkipUnlessSupported();
    }

    private AioEngineHost Host => _host ??= Own(_variant.Create(threads: 2));

    private AioFile OpenFile(string path, FileMode mode = FileMode.Open, FileAccess access = FileAccess.ReadWrite,
        bool direct = false, bool? inlineCachedReads = null) =>
        Own(AioFile.Open(path, mode, access, new AioFileOptions
        {
            Host = Host,
            Direct = direct,
            InlineCachedReads = inlineCachedReads ?? _variant.InlineCachedReads,
        }));

    /// <summary>A FIFO nobody writes to yet, opened as an AioFile: a read of it waits in the kernel (io_uring parks it
    /// on the FIFO; the thread-pool engine waits in poll) until <see cref="HeldFifo.Feed"/> writes into it, and both
    /// engines can cancel it while it waits.</summary>
    private HeldFifo NewHeldFifo(string name = "held.fifo")
    {
        Require.Linux();
        string path = PathOf(name);
        Assert.Equal(0, TestNative.mkfifo(path, 0x180));
        AioFile file = OpenFile(path, FileMode.Open, FileAccess.ReadWrite);
        HeldFifo fifo = Own(new HeldFifo(file, path));
        ReleaseFirstAtEnd(fifo.FeedForEver);
        return fifo;
    }

    private static CancellationToken Timeout => new CancellationTokenSource(LongTimeout).Token;

    [Theory, EachHost]
    public async Task WriteThenRead_RoundTrips_OnTheEngineAskedFor(string host)
    {
        Use(host);
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

    [Theory, EachHost]
    public async Task VectoredWriteAndRead_FollowBufferOrder(string host)
    {
        Use(host);
        AioFile file = OpenFile(PathOf("v.bin"), FileMode.CreateNew);
        Assert.Equal(9, await file.WriteAsync(new ReadOnlyMemory<byte>[] { new byte[] { 1, 2, 3 }, new byte[] { 4, 5 }, new byte[] { 6, 7, 8, 9 } }, 0));
        var a = new byte[4];
        var b = new byte[5];
        Assert.Equal(9, await file.ReadAsync(new Memory<byte>[] { a, b }, 0));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, a);
        Assert.Equal(new byte[] { 5, 6, 7, 8, 9 }, b);
    }

    [Theory, EachHost]
    public async Task ReadExactly_LoopsUntilFull_AndThrowsEndOfStreamAtTheEnd(string host)
    {
        Use(host);
        AioFile file = OpenFile(CreatePatternFile("e.bin", 5000));
        var buffer = new byte[4000];
        await file.ReadExactlyAsync(buffer, 1000);
        AssertPattern(buffer, 1000);
        var e = await Assert.ThrowsAsync<EndOfStreamException>(async () => await file.ReadExactlyAsync(new byte[100], 4950));
        Assert.Contains("e.bin", e.Message);
    }

    [Theory, EachHost]
    public async Task ReadExactly_AtEndOfFile_SaysHowMuchOfWhichReadCameAndHowLongTheFileIs(string host)
    {
        Use(host);
        string path = CreatePatternFile("eof.bin", 10_000);
        AioFile file = OpenFile(path);
        var buffer = new byte[65_536];

        var inside = await Assert.ThrowsAsync<EndOfStreamException>(async () => await file.ReadExactlyAsync(buffer, 4_000));
        var past = await Assert.ThrowsAsync<EndOfStreamException>(async () => await file.ReadExactlyAsync(buffer, 65_536));

        Assert.Equal($"End of file after 6000 of the 65536 bytes asked for at offset 4000 (the file is 10000 bytes): '{path}'.", inside.Message);
        Assert.Equal($"End of file after 0 of the 65536 bytes asked for at offset 65536 (the file is 10000 bytes): '{path}'.", past.Message);
        AssertPattern(buffer.AsSpan(0, 6000), 4_000); // what was there is in the buffer
    }

    [Theory, EachHost]
    public async Task ReadExactly_DirectAtEndOfFile_SaysHowMuchOfWhichReadCameAndHowLongTheFileIs(string host)
    {
        Use(host);
        Require.Linux();
        string path = CreatePatternFile("eofd.bin", 10_000);
        AioFile file = OpenFile(path, direct: true);
        using var buffer = new AlignedBuffer(8192);

        var e = await Assert.ThrowsAsync<EndOfStreamException>(async () => await file.ReadExactlyAsync(buffer.Memory, 8192));

        Assert.Equal($"End of file after 1808 of the 8192 bytes asked for at offset 8192 (the file is 10000 bytes): '{path}'.", e.Message);
    }

    [Theory, EachHost]
    public async Task WriteAll_FlushAndSetLength_LeaveTheFileAsWritten(string host)
    {
        Use(host);
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

    [Theory, EachHost]
    public async Task Errors_AreIOExceptionsWithErrnoAndPath(string host)
    {
        Use(host);
        AioFile file = OpenFile(CreatePatternFile("ro.bin", 100), FileMode.Open, FileAccess.Read);
        var e = await Assert.ThrowsAsync<IOException>(async () => await file.WriteAsync(new byte[10], 0));
        Assert.Equal(9, e.HResult); // EBADF: the descriptor is read-only
        Assert.Contains("ro.bin", e.Message);
        Assert.Contains("errno 9", e.Message);
    }

    [Theory, EachHost]
    public async Task ReadOfAnUnreadableBlock_IsAnIOExceptionWithEio_AndTheFileStaysUsable(string host)
    {
        Use(host);
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

    [Theory, EachHost]
    public async Task BadArguments_ThrowAtTheCall(string host)
    {
        Use(host);
        AioFile file = OpenFile(CreatePatternFile("a.bin", 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadAsync(new byte[1], -1));
        Assert.Throws<ArgumentException>(() => file.ReadAsync(Array.Empty<Memory<byte>>(), 0));
        await file.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => file.ReadAsync(new byte[1], 0));
    }

    [Theory, EachHost]
    public async Task DirectIo_AlignedWorks_MisalignedIsRefusedNamingTheRule(string host)
    {
        Use(host);
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

    [Theory, EachHost]
    public async Task Cancellation_BeforeTheCall_DoesNothingAndThrows(string host)
    {
        Use(host);
        AioFile file = OpenFile(CreatePatternFile("c.bin", 100));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var buffer = new byte[10];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await file.ReadAsync(buffer, 0, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await file.FlushAsync(false, cancelled.Token));
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    // SPEC §4: a token cancels in the kernel, and the cancelled call's buffer is not touched afterwards.
    [Theory, EachHost]
    public async Task Cancellation_WhileInTheKernel_ThrowsAndTheBufferIsNeverWrittenAfterwards(string host)
    {
        Use(host);
        HeldFifo fifo = NewHeldFifo();
        byte[] buffer = Enumerable.Repeat((byte)0xEE, 64).ToArray();
        using var cancel = new CancellationTokenSource();
        ValueTask<int> read = fifo.File.ReadAsync(buffer, 0, cancel.Token);
        Assert.False(read.IsCompleted); // nothing has been fed: it cannot have completed

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read.AsTask().WaitAsync(LongTimeout));

        // Now data comes: the cancelled read must not take it. The next read gets all of it.
        fifo.Feed(64, 0x5A);
        var next = new byte[64];
        Assert.Equal(64, await fifo.File.ReadAsync(next, 0).AsTask().WaitAsync(LongTimeout));
        Assert.All(next, b => Assert.Equal(0x5A, b));
        Assert.All(buffer, b => Assert.Equal(0xEE, b));
    }

    // OperationsInFlight drops when the operation completes, before its continuation runs: a continuation still waiting
    // for a thread-pool thread is not an operation in flight (FileAio.Faster paces FASTER's reads by this count).
    [Theory, EachHost]
    public async Task OperationsInFlight_CountsAnOperationUntilItCompletes_NotItsContinuation(string host)
    {
        Use(host);
        HeldFifo fifo = NewHeldFifo();
        ValueTask<int> read = fifo.File.ReadAsync(new byte[64], 0);
        Assert.Equal(1, fifo.File.OperationsInFlight);

        int inContinuation = -1;
        var continued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTaskAwaiter<int> awaiter = read.GetAwaiter();
        awaiter.UnsafeOnCompleted(() =>
        {
            inContinuation = fifo.File.OperationsInFlight;
            continued.SetResult();
        });
        fifo.Feed(64, 0x5A);
        await continued.Task.WaitAsync(LongTimeout);

        Assert.Equal(0, inContinuation);
        Assert.Equal(64, awaiter.GetResult());
        Assert.Equal(0, fifo.File.OperationsInFlight);
    }

    // SPEC §4: Dispose cancels what is in flight, waits for the kernel to let go of every buffer, then closes — and
    // returns even when an operation could never complete on its own.
    [Theory, EachHost]
    public async Task DisposeAsync_WithReadsOfAnEmptyFifoInFlight_CancelsThemAndCloses(string host)
    {
        Use(host);
        HeldFifo fifo = NewHeldFifo();
        byte[][] buffers = Enumerable.Range(0, 3).Select(_ => Enumerable.Repeat((byte)0xEE, 64).ToArray()).ToArray();
        ValueTask<int>[] reads = buffers.Select(b => fifo.File.ReadAsync(b, 0)).ToArray();

        await fifo.File.DisposeAsync().AsTask().WaitAsync(LongTimeout);

        foreach (ValueTask<int> read in reads)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        }
        Assert.True(fifo.File.Handle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => fifo.File.ReadAsync(new byte[1], 0));
        fifo.Feed(64, 0x5A); // into the FIFO, which nobody reads now: no buffer of a cancelled read takes it
        Assert.All(buffers, b => Assert.All(b, x => Assert.Equal(0xEE, x)));
    }

    [Theory, EachHost]
    public async Task Dispose_WithAReadOfAnEmptyFifoInFlight_CancelsItAndReturns(string host)
    {
        Use(host);
        HeldFifo fifo = NewHeldFifo();
        ValueTask<int> read = fifo.File.ReadAsync(new byte[64], 0);

        await Task.Run(fifo.File.Dispose).WaitAsync(LongTimeout);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        Assert.True(fifo.File.Handle.IsClosed);
    }

    [Theory, EachHost]
    [Trait("Category", "Stress")]
    public async Task Stress_64ConcurrentCallersTimes10000VerifiedOperations(string host)
    {
        Use(host);
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

    [Theory, EachHost]
    public async Task SteadyState_AllocatesNothingPerOperation(string host)
    {
        Use(host);
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
