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
}
