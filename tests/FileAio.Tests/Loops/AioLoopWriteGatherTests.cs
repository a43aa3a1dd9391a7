using FileAio.Async;
using FileAio.Buffers;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// Write gathering (WriteGather): writes of one file that a loop takes one after another, each beginning where the
/// one before ends, go to the engine as one vectored write, and each caller gets its own answer. Begun with no await
/// between them by code on the loop, they are taken in one turn, so whether they gather is certain, not timing. On an
/// engine that does not gather (POSIX AIO) every test still checks the answers and the data.
/// </summary>
public sealed class AioLoopWriteGatherTests : LoopTest
{
    private const int Block = 4096;

    private bool Gathers => Host.Loops[0].EngineLoop.Engine.GathersWrites;

    /// <summary>Each write's answer, awaited once each, in order.</summary>
    private static async Task<int[]> AwaitEach(IReadOnlyList<ValueTask<int>> writes)
    {
        var written = new int[writes.Count];
        for (int i = 0; i < written.Length; i++)
        {
            written[i] = await writes[i];
        }
        return written;
    }

    [Theory, EachHost]
    public async Task AdjacentWritesBegunInOneTurn_AreOneGatheredWrite_AndEachGetsItsOwnLength(string host)
    {
        Use(host);
        const int Writers = 16;
        AioLoop loop = Host.Loops[0];
        string path = PathOf("log.bin");
        // Unequal lengths (512 B to 8 KiB), so that handing the one answer out in order is checked, not just split evenly.
        int[] lengths = [.. Enumerable.Range(0, Writers).Select(i => 512 * (1 + i % 16))];
        long[] offsets = new long[Writers];
        for (int i = 1; i < Writers; i++)
        {
            offsets[i] = offsets[i - 1] + lengths[i - 1];
        }

        (int[] written, long gathered) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile log = OpenFile(Host, path, FileMode.CreateNew);
            var writes = new ValueTask<int>[Writers];
            for (int i = 0; i < Writers; i++) // no await between them: one turn takes them all
            {
                writes[i] = log.WriteAsync(Enumerable.Repeat((byte)(i + 1), lengths[i]).ToArray(), offsets[i]);
            }
            int[] written = await AwaitEach(writes);
            long gathered = log.GatheredWriteCount;
            await log.DisposeAsync();
            return (written, gathered);
        }));

        Assert.Equal(lengths, written);
        Assert.Equal(Gathers ? 1 : 0, gathered);
        byte[] data = await File.ReadAllBytesAsync(path);
        Assert.Equal(lengths.Sum(), data.Length);
        for (int i = 0; i < Writers; i++)
        {
            Assert.True(data.AsSpan((int)offsets[i], lengths[i]).IndexOfAnyExcept((byte)(i + 1)) < 0, $"write {i}");
        }
    }

    [Theory, EachHost]
    public async Task WritesThatDoNotContinueTheOneBefore_AreNotGathered(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        string path = PathOf("apart.bin"), other = PathOf("other.bin");

        (int[] written, long gathered, long otherGathered) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile file = OpenFile(Host, path, FileMode.CreateNew);
            AioFile second = OpenFile(Host, other, FileMode.CreateNew);
            byte[] block = new byte[Block], large = new byte[WriteGather.MaxRiderBytes + Block];
            ValueTask<int>[] writes =
            [
                file.WriteAsync(block, 0),
                file.WriteAsync(block, 2 * Block),                 // a gap before it
                second.WriteAsync(block, 0),                       // another file between two adjacent ones
                file.WriteAsync(block, 3 * Block),
                file.WriteAsync(large, 4 * Block),                 // too large to gather
                file.WriteAsync(block, 4 * Block + large.Length),
                file.WriteAsync(new ReadOnlyMemory<byte>[] { block, block }, 5 * Block + large.Length), // vectored: goes as it is
                file.WriteAsync(block, 7 * Block + large.Length),
                file.WriteAsync(block, 6 * Block + large.Length),  // before the one before it
            ];
            int[] written = await AwaitEach(writes);
            (long gathered, long otherGathered) = (file.GatheredWriteCount, second.GatheredWriteCount);
            await file.DisposeAsync();
            await second.DisposeAsync();
            return (written, gathered, otherGathered);
        }));

        Assert.Equal([Block, Block, Block, Block, WriteGather.MaxRiderBytes + Block, Block, 2 * Block, Block, Block], written);
        Assert.Equal(0, gathered);
        Assert.Equal(0, otherGathered);
    }

    // WriteGather's limits: a run longer than MaxRiders writes, or larger than MaxBytes, goes as several gathered
    // writes, each as full as the limits let it be; a write of exactly MaxRiderBytes still gathers.
    [Theory, EachHost]
    public async Task ARunPastTheLimits_IsSplitIntoFullGatheredWrites(string host)
    {
        Use(host);
        AioLoop loop = Host.Loops[0];
        const int Small = 512, SmallWrites = 2 * WriteGather.MaxRiders + 2;        // 64 + 64 + 2
        const int LargeWrites = WriteGather.MaxBytes / WriteGather.MaxRiderBytes + 4; // 16 + 4
        string smallPath = PathOf("small.bin"), largePath = PathOf("large.bin");

        (int[] small, int[] large, long smallGathered, long largeGathered) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile smallLog = OpenFile(Host, smallPath, FileMode.CreateNew);
            AioFile largeLog = OpenFile(Host, largePath, FileMode.CreateNew);
            var writes = new List<ValueTask<int>>();
            for (int i = 0; i < SmallWrites; i++)
            {
                writes.Add(smallLog.WriteAsync(Enumerable.Repeat((byte)(i % 250 + 1), Small).ToArray(), (long)i * Small));
            }
            for (int i = 0; i < LargeWrites; i++)
            {
                writes.Add(largeLog.WriteAsync(Enumerable.Repeat((byte)(i + 1), WriteGather.MaxRiderBytes).ToArray(),
                    (long)i * WriteGather.MaxRiderBytes));
            }
            int[] written = await AwaitEach(writes);
            (long smallGathered, long largeGathered) = (smallLog.GatheredWriteCount, largeLog.GatheredWriteCount);
            await smallLog.DisposeAsync();
            await largeLog.DisposeAsync();
            return (written[..SmallWrites], written[SmallWrites..], smallGathered, largeGathered);
        }));

        Assert.All(small, n => Assert.Equal(Small, n));
        Assert.All(large, n => Assert.Equal(WriteGather.MaxRiderBytes, n));
        Assert.Equal(Gathers ? 3 : 0, smallGathered);
        Assert.Equal(Gathers ? 2 : 0, largeGathered);
        byte[] data = await File.ReadAllBytesAsync(smallPath);
        Assert.Equal(SmallWrites * Small, data.Length);
        for (int i = 0; i < SmallWrites; i++)
        {
            Assert.True(data.AsSpan(i * Small, Small).IndexOfAnyExcept((byte)(i % 250 + 1)) < 0, $"small write {i}");
        }
        data = await File.ReadAllBytesAsync(largePath);
        Assert.Equal(LargeWrites * WriteGather.MaxRiderBytes, data.Length);
        for (int i = 0; i < LargeWrites; i++)
        {
            Assert.True(data.AsSpan(i * WriteGather.MaxRiderBytes, WriteGather.MaxRiderBytes).IndexOfAnyExcept((byte)(i + 1)) < 0,
                $"large write {i}");
        }
    }

    // O_DIRECT: every part of a gathered write is aligned (each was checked as a write of its own), so the whole is a
    // valid direct write; what reaches the device is read back with a direct read.
    [Theory, EachHost]
    public async Task AdjacentDirectWrites_AreGathered_AndReachTheDevice(string host)
    {
        Use(host);
        const int Writers = 16;
        AioLoop loop = Host.Loops[0];
        string path = PathOf("direct-log.bin");

        (int[] written, long gathered, bool same) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile log = Own(AioFile.Open(path, FileMode.CreateNew, FileAccess.ReadWrite,
                new AioFileOptions { Host = Host, Direct = true, InlineCachedReads = Variant.InlineCachedReads }));
            AlignedBuffer[] blocks = [.. Enumerable.Range(0, Writers).Select(_ => Own(new AlignedBuffer(Block)))];
            var writes = new ValueTask<int>[Writers];
            for (int i = 0; i < Writers; i++)
            {
                blocks[i].GetSpan().Fill((byte)(i + 1));
                writes[i] = log.WriteAsync(blocks[i].Memory, (long)i * Block);
            }
            int[] written = await AwaitEach(writes);
            long gathered = log.GatheredWriteCount;
            using var back = new AlignedBuffer(Writers * Block);
            bool same = await log.ReadAsync(back.Memory, 0) == Writers * Block;
            for (int i = 0; same && i < Writers; i++)
            {
                same = back.GetSpan().Slice(i * Block, Block).IndexOfAnyExcept((byte)(i + 1)) < 0;
            }
            await log.DisposeAsync();
            return (written, gathered, same);
        }));

        Assert.All(written, n => Assert.Equal(Block, n));
        Assert.Equal(Gathers ? 1 : 0, gathered);
        Assert.True(same, "A direct read gave back other data than the gathered writes wrote.");
    }

    // WriteGather, remark 2: a FIFO's write may wait for ever and must stay cancellable alone, so writes of one never
    // gather, even taken in one turn; a regular file's, taken right after them in the same turn, do (the control).
    [Theory, EachHost]
    public async Task WritesOfAFifo_AreNeverGathered(string host)
    {
        Use(host);
        Require.Linux();
        const int Writers = 8, Small = 512;
        AioLoop loop = Host.Loops[0];
        string path = PathOf("control.bin");

        (int[] written, long fifoGathered, long fileGathered) = await Bounded(loop.RunAsync(async () =>
        {
            HeldFifo fifo = NewHeldFifo(Host); // opened here, so that it is this loop's file
            AioFile file = OpenFile(Host, path, FileMode.CreateNew);
            var writes = new List<ValueTask<int>>();
            for (int i = 0; i < Writers; i++)
            {
                writes.Add(fifo.File.WriteAsync(new byte[Small], (long)i * Small));
            }
            for (int i = 0; i < Writers; i++)
            {
                writes.Add(file.WriteAsync(new byte[Small], (long)i * Small));
            }
            int[] written = await AwaitEach(writes);
            (long fifoGathered, long fileGathered) = (fifo.File.GatheredWriteCount, file.GatheredWriteCount);
            await file.DisposeAsync();
            return (written, fifoGathered, fileGathered);
        }));

        Assert.All(written, n => Assert.Equal(Small, n));
        Assert.Equal(0, fifoGathered);
        Assert.Equal(Gathers ? 1 : 0, fileGathered);
    }

    // WriteGather, remark 3: a gathered write that fills the file system part-way is short; the writes it wrote none
    // of start again alone and fail with ENOSPC each, and a flush begun right after one of them (the write-ahead log's
    // pattern) still completes only after that write has — though the barrier saw the gathered write complete first.
    [Theory, EachHost]
    public async Task AGatheredWriteThatFillsTheFileSystem_StartsTheUnwrittenAgainAlone_AndEachFlushWaitsForItsWrite(string host)
    {
        Use(host);
        Require.Linux();
        Require.Root();
        const int Appenders = 32, Room = 16; // 32 blocks into a 16-page tmpfs
        AioLoop loop = Host.Loops[0];
        using SmallTmpfs small = SmallTmpfs.Mount(PathOf("small-fs"), Room * Block);
        string path = small.PathOf("log.bin");

        (string? broken, int[] written, int[] enospc, long gathered) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile log = OpenFile(Host, path, FileMode.CreateNew);
            string? broken = null;
            var writes = new ValueTask<int>[Appenders];
            var flushes = new ValueTask[Appenders];
            byte[][] blocks = [.. Enumerable.Range(0, Appenders).Select(a => Enumerable.Repeat((byte)(a + 1), Block).ToArray())];
            for (int a = 0; a < Appenders; a++) // one turn
            {
                writes[a] = log.WriteAsync(blocks[a], (long)a * Block);
                flushes[a] = log.FlushAsync(dataOnly: true);
            }
            var written = new List<int>();
            var enospc = new List<int>();
            for (int a = 0; a < Appenders; a++)
            {
                ValueTask<int> write = writes[a];
                await flushes[a];
                if (!write.IsCompleted)
                {
                    broken ??= $"appender {a}'s flush completed before its write";
                }
                try
                {
                    int n = await write;
                    written.Add(n);
                }
                catch (IOException e) when (e.HResult == 28)
                {
                    enospc.Add(a);
                }
            }
            long gathered = log.GatheredWriteCount;
            await log.DisposeAsync();
            return (broken, written.ToArray(), enospc.ToArray(), gathered);
        }));

        Assert.Null(broken);
        Assert.Equal(Appenders, written.Length + enospc.Length);
        Assert.NotEmpty(enospc);
        Assert.InRange(written.Sum(), 1, Room * Block);
        Assert.All(written, n => Assert.InRange(n, 1, Block));
        Assert.True(gathered >= (Gathers ? 1 : 0));
        byte[] data = await File.ReadAllBytesAsync(path);
        Assert.InRange(data.Length, written.Sum(), Room * Block);
        for (int block = 0; block * Block < written.Sum(); block++)
        {
            int end = Math.Min(Block, written.Sum() - block * Block);
            Assert.True(data.AsSpan(block * Block, end).IndexOfAnyExcept((byte)(block + 1)) < 0, $"block {block}");
        }
    }

    // WriteGather, remark 4: a rider whose token fires while its gathered write is in the kernel is answered with that
    // write (its bytes were written); the file's Dispose waits for the write rather than leaving it behind.
    [Theory, EachHost]
    public async Task ARiderWhoseTokenFiresWhileItsGatheredWriteRuns_GetsTheWritesAnswer_AndDisposeWaitsForIt(string host)
    {
        Use(host);
        Require.Linux();
        Require.Root();
        AioLoop loop = Host.Loops[0];
        string path = PathOf("held.bin");
        UserfaultStall stall = NewStall(Block);
        using var cancel = new CancellationTokenSource();
        // Opened on the loop, so that the file is the loop's (a file opened elsewhere may go to the host's other loop,
        // and its writes would then be queued to it one by one, not taken in one turn).
        AioFile file = await Bounded(loop.RunAsync(() => Task.FromResult(OpenFile(Host, path, FileMode.CreateNew))));
        byte[] before = Enumerable.Repeat((byte)1, Block).ToArray(), after = Enumerable.Repeat((byte)3, Block).ToArray();

        Task<int>[] writes = await Bounded(loop.RunAsync(() => Task.FromResult(new[]
        {
            file.WriteAsync(before, 0).AsTask(),
            file.WriteAsync(stall.Memory, Block, cancel.Token).AsTask(), // its copy waits in the kernel until released
            file.WriteAsync(after, 2 * Block).AsTask(),
        })));
        Assert.True(stall.WaitUntilFaulted(LongTimeout), "The write never reached the kernel's copy.");
        if (!Gathers)
        {
            stall.Release(); // nothing gathers here: the answers and the data are still checked
        }
        else
        {
            Assert.Equal(1, file.GatheredWriteCount);
            cancel.Cancel();
            Task disposed = file.DisposeAsync().AsTask();
            await Task.Delay(100);
            Assert.False(writes[1].IsCompleted, "The cancelled rider ended while its write was still in the kernel.");
            Assert.False(disposed.IsCompleted, "Dispose returned while a write of the file was still in the kernel.");
            stall.Release();
            await Bounded(disposed);
        }

        int[] answers = await Bounded(Task.WhenAll(writes));
        Assert.Equal([Block, Block, Block], answers);
        await file.DisposeAsync();
        byte[] data = await File.ReadAllBytesAsync(path);
        Assert.True(data.AsSpan(0, Block).IndexOfAnyExcept((byte)1) < 0);
        Assert.True(data.AsSpan(Block, Block).IndexOfAnyExcept(UserfaultStall.ReleasedFill) < 0);
        Assert.True(data.AsSpan(2 * Block, Block).IndexOfAnyExcept((byte)3) < 0);
    }
}
