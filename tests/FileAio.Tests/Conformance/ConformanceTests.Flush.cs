using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §3: a flush completes only after every earlier write of the context, then makes the data durable.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext(false)]
    [EachContext(true)]
    public void Flush_AfterWrites_SucceedsAndTheDataIsInTheFile(string engine, bool dataOnly) => Run(engine, () =>
    {
        AioContext context = NewContext();
        string path = PathOf("flushed.bin");
        SafeFileHandle file = Open(path, FileMode.CreateNew);
        AioRequest[] writes = NewRequests(16);
        for (int i = 0; i < writes.Length; i++)
        {
            byte[] data = Enumerable.Range(0, 4096).Select(b => PatternByte(i * 4096L + b)).ToArray();
            writes[i].PrepareWrite(file, i * 4096L, data);
        }
        SubmitAll(context, writes);
        using var flush = new AioRequest();
        flush.PrepareFlush(file, dataOnly);
        context.Submit([flush]);

        List<AioRequest> reported = WaitForAll(context, 17);
        Assert.Equal(AioStatus.Success, flush.Status);
        Assert.All(writes, w => Assert.Equal(4096, w.BytesTransferred));
        Assert.Equal(writes.Length, reported.IndexOf(flush)); // every write was reported before the flush

        AssertPattern(File.ReadAllBytes(path), 0);
    });

    [Theory]
    [EachContext]
    public void Flush_WaitsForAnEarlierWriteThatIsStuckInTheKernel(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = Open(PathOf("barrier.bin"), FileMode.CreateNew);
        FifoHold hold = Hold();
        using var write = new AioRequest();
        using var flush = new AioRequest();
        hold.PrepareWrite(write, 0, "write");   // held in the kernel until released
        flush.PrepareFlush(file, userState: "flush");
        Assert.Equal(1, context.Submit([write]));
        Assert.Equal(1, context.Submit([flush]));

        AioWaitResult early = context.Wait(1, TimeSpan.FromMilliseconds(300), new AioRequest[2]);
        Assert.Equal(new AioWaitResult(0, AioWaitReason.TimedOut), early); // neither: the flush waits for the write
        Assert.Equal(AioRequestState.Submitted, flush.State);

        hold.Release();
        List<AioRequest> reported = WaitForAll(context, 2);
        Assert.Equal(new[] { write, flush }, reported);
        Assert.Equal(AioStatus.Success, write.Status);
        Assert.True(write.BytesTransferred > 0);
        Assert.Equal(AioStatus.Success, flush.Status);
    });
}
