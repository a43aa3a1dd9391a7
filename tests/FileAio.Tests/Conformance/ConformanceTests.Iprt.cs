using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Conformance;

// IPRT's own test (tstRTFileAio): 100 MiB in 64 KiB requests, 64 in flight, pattern i % 256, read back and verified.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void IprtTest_100MiBIn64KiBRequestsWith64InFlight_WritesAndReadsBackThePattern(string engine) => Run(engine, () =>
    {
        const int RequestSize = 64 * 1024, InFlight = 64;
        const long FileSize = 100L * 1024 * 1024;
        const int RequestCount = (int)(FileSize / RequestSize);

        AioContext context = NewContext(capacity: InFlight);
        SafeFileHandle file = Open(PathOf("iprt.bin"), FileMode.CreateNew);
        var buffers = new AlignedBuffer[InFlight];
        AioRequest[] requests = NewRequests(InFlight);
        for (int i = 0; i < InFlight; i++)
        {
            buffers[i] = Own(new AlignedBuffer(RequestSize, 4096));
        }

        // The pattern: the byte at file offset p is p % 256, so every 64 KiB block is identical.
        for (int i = 0; i < InFlight; i++)
        {
            Span<byte> span = buffers[i].Memory.Span;
            for (int b = 0; b < RequestSize; b++)
            {
                span[b] = (byte)(b % 256);
            }
        }
        RunIprtPass(context, file, requests, buffers, RequestCount, write: true);

        // Read back into poisoned buffers and verify each completion by its user state (the block index).
        foreach (AlignedBuffer buffer in buffers)
        {
            buffer.Memory.Span.Fill(0xA5);
        }
        RunIprtPass(context, file, requests, buffers, RequestCount, write: false);
        Assert.Equal(FileSize, RandomAccess.GetLength(file));
    });

    private static void RunIprtPass(AioContext context, SafeFileHandle file, AioRequest[] requests, AlignedBuffer[] buffers,
        int requestCount, bool write)
    {
        int size = buffers[0].Length;
        int next = 0, done = 0;
        var verified = new bool[requestCount];
        var output = new AioRequest[requests.Length];

        void Prepare(int slot)
        {
            int block = next++;
            if (write)
            {
                requests[slot].PrepareWrite(file, (long)block * size, buffers[slot].Memory, (block, slot));
            }
            else
            {
                requests[slot].PrepareRead(file, (long)block * size, buffers[slot].Memory, (block, slot));
            }
        }

        for (int slot = 0; slot < requests.Length && next < requestCount; slot++)
        {
            Prepare(slot);
        }
        SubmitAll(context, requests.AsSpan(0, Math.Min(requests.Length, requestCount)));

        while (done < requestCount)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            Assert.Equal(AioWaitReason.Completed, result.Reason);
            for (int i = 0; i < result.Count; i++)
            {
                AioRequest request = output[i];
                (int block, int slot) = ((int, int))request.UserState!;
                Assert.Equal(AioStatus.Success, request.Status);
                Assert.Equal(size, request.BytesTransferred);
                if (!write)
                {
                    Assert.False(verified[block], $"Block {block} was reported twice.");
                    ReadOnlySpan<byte> data = buffers[slot].Memory.Span;
                    for (int b = 0; b < size; b++)
                    {
                        if (data[b] != (byte)(b % 256))
                        {
                            Assert.Fail($"Block {block}, byte {b}: {data[b]} instead of {b % 256}.");
                        }
                    }
                    buffers[slot].Memory.Span.Fill(0xA5);
                    verified[block] = true;
                }
                done++;
                if (next < requestCount)
                {
                    Prepare(slot);
                    SubmitAll(context, [request]);
                }
            }
        }
        if (!write)
        {
            Assert.All(verified, Assert.True);
        }
    }
}
