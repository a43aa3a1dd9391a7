using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// Where a read the page cache holds is served. Loop code on the file's own io_uring thread sends it into the ring, to
/// be served with the turn's other reads by one <c>io_uring_enter</c>; every other caller — another thread, another
/// engine — keeps the fast path (<see cref="AioFileOptions.InlineCachedReads"/>) and gets the read completed on the spot.
/// </summary>
public sealed class LoopCachedReadsTests : LoopTest
{
    [Theory, EachHost]
    public async Task ACachedRead_InLoopCode_GoesThroughTheRingOnIoUring_AndOnTheSpotElsewhere(string host)
    {
        Use(host);
        string path = PathOf("cached.bin");
        byte[] data = Enumerable.Range(0, 16384).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, data);
        _ = File.ReadAllBytes(path); // in the page cache now
        AioLoop loop = Host.Loops[0];
        AioFile file = await Bounded(loop.RunAsync(() => Task.FromResult(
            AioFile.Open(path, FileMode.Open, FileAccess.Read, new AioFileOptions { Host = Host, InlineCachedReads = true }))));

        (int completedOnLoop, int wrongOnLoop) = await Bounded(loop.RunAsync(async () =>
        {
            int completed = 0, wrong = 0;
            var back = new byte[4096];
            for (int i = 0; i < 4; i++)
            {
                ValueTask<int> pending = file.ReadAsync(back, i * 4096L);
                completed += pending.IsCompleted ? 1 : 0;
                wrong += await pending == 4096 && back.AsSpan().SequenceEqual(data.AsSpan(i * 4096, 4096)) ? 0 : 1;
            }
            return (completed, wrong);
        }));

        // Off the loop (this test's thread): the fast path, wherever it is on.
        var again = new byte[4096];
        ValueTask<int> offLoop = file.ReadAsync(again, 4096);
        bool completedOffLoop = offLoop.IsCompleted;
        Assert.Equal(4096, await offLoop);
        Assert.Equal(data.AsSpan(4096, 4096).ToArray(), again);
        await file.DisposeAsync();

        Assert.Equal(0, wrongOnLoop);
        Assert.Equal(OperatingSystem.IsLinux(), completedOffLoop); // the fast path is Linux's preadv2(RWF_NOWAIT)
        Assert.Equal(Host.Engine == AioEngineKind.IoUring || !OperatingSystem.IsLinux() ? 0 : 4, completedOnLoop);
    }
}
