using FileAio.Buffers;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>The loop mode with O_DIRECT files, on every engine: the path where each engine really goes to the device
/// (Linux AIO's io_submit takes only O_DIRECT files asynchronously; buffered ones are what the other loop tests use).</summary>
public sealed class AioLoopDirectTests : LoopTest
{
    [Theory, EachHost]
    public async Task DirectWritesAndReads_ManyFlowsOnOneLoop_RoundTripAndResumeOnTheLoop(string host)
    {
        Use(host);
        const int Flows = 16, Block = 4096, Rounds = 8;
        AioLoop loop = Host.Loops[1];
        string path = PathOf("direct.bin");
        int loopThread = await ThreadIdOf(loop);

        int offLoop = await Bounded(loop.RunAsync(async () =>
        {
            await using AioFile file = AioFile.Open(path, FileMode.Create, FileAccess.ReadWrite,
                new AioFileOptions { Host = Host, Direct = true, InlineCachedReads = Variant.InlineCachedReads });
            Assert.Equal(Host.Engine, file.Engine);
            int wrongThread = 0;
            async Task Flow(int flow)
            {
                using var written = new AlignedBuffer(Block);
                using var read = new AlignedBuffer(Block);
                for (int round = 0; round < Rounds; round++)
                {
                    long offset = ((round * Flows) + flow) * (long)Block;
                    written.GetSpan().Fill((byte)(flow + (round * Flows) + 1));
                    await file.WriteAllAsync(written.Memory, offset);
                    wrongThread += Environment.CurrentManagedThreadId == loopThread ? 0 : 1;
                    Assert.Equal(Block, await file.ReadAsync(read.Memory, offset));
                    wrongThread += Environment.CurrentManagedThreadId == loopThread ? 0 : 1;
                    Assert.True(read.GetSpan().SequenceEqual(written.GetSpan()), $"flow {flow}, round {round}: read back other data");
                }
            }
            await Task.WhenAll(Enumerable.Range(0, Flows).Select(Flow));
            return wrongThread;
        }));

        Assert.Equal(0, offLoop);
        Assert.Equal((long)Flows * Rounds * Block, new FileInfo(path).Length);
    }

    /// <summary>More device completions ready at once than one reap takes after a device's turn (the loop then takes
    /// 8 per turn, EngineLoop.DeviceWave): each is still delivered, to the right flow, on the loop.</summary>
    [Theory, EachHost]
    public async Task DirectReads_ManyMoreInFlightThanAReapTakes_EachReachesItsFlowOnTheLoop(string host)
    {
        Use(host);
        const int Flows = 64, Block = 4096, Rounds = 4;
        AioLoop loop = Host.Loops[0];
        string path = PathOf("direct-reads.bin");
        byte[] content = new byte[Flows * Rounds * Block];
        for (int block = 0; block < Flows * Rounds; block++)
        {
            content.AsSpan(block * Block, Block).Fill((byte)(block % 251 + 1));
        }
        File.WriteAllBytes(path, content);
        int loopThread = await ThreadIdOf(loop);

        (int wrongThread, int reads) = await Bounded(loop.RunAsync(async () =>
        {
            await using AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.Read,
                new AioFileOptions { Host = Host, Direct = true, InlineCachedReads = Variant.InlineCachedReads });
            int wrong = 0, done = 0;
            async Task Flow(int flow)
            {
                using var read = new AlignedBuffer(Block);
                for (int round = 0; round < Rounds; round++)
                {
                    int block = (round * Flows) + flow;
                    Assert.Equal(Block, await file.ReadAsync(read.Memory, (long)block * Block));
                    wrong += Environment.CurrentManagedThreadId == loopThread ? 0 : 1;
                    Assert.True(read.GetSpan().SequenceEqual(content.AsSpan(block * Block, Block)),
                        $"flow {flow}, round {round}: read block {block} with other data");
                    done++;
                }
            }
            await Task.WhenAll(Enumerable.Range(0, Flows).Select(Flow));
            return (wrong, done);
        }));

        Assert.Equal(0, wrongThread);
        Assert.Equal(Flows * Rounds, reads);
    }
}
