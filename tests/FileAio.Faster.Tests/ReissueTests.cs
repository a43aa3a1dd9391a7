using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;
using FileAio.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>I/O issued from the callbacks of earlier I/O, as FASTER issues it, direct and buffered: callbacks never run
/// inside the call that issued their I/O — also when the page cache serves a buffered read before ReadAsync returns —
/// and in steady state nothing is allocated per I/O.</summary>
public abstract class ReissueTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int Chains = 8;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_ReissuedFromCallbacks_CallBackOffTheIssuingCallAndAllocateNothingPerIo(bool direct)
    {
        using var buffer = new AlignedBuffer(Chains * 4096, 4096);
        using FileAioDevice device = NewDevice("log", direct: direct);
        device.Initialize(1L << 22);
        for (int c = 0; c < Chains; c++)
        {
            Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address + c * 4096, (ulong)c * 4096, 4096).ErrorCode);
        }

        var run = new ReadChains(device, buffer.Address, Chains);
        using var cachedReads = new MeasurementCounter("fileaio.cached_reads");
        run.Go(20_000); // warm up: the pools fill, the JIT settles, the thread pool has its threads
        if (!direct)
        {
            // The buffered pages were just written, so the page cache holds them: FileAio serves the reads on the
            // issuing thread, inside ReadAsync, and the device must still call back elsewhere.
            Assert.True(cachedReads.Total > 10_000, $"only {cachedReads.Total} of 20,000 reads came from the page cache");
        }
        double best = double.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            run.Go(40_000);
            best = Math.Min(best, (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / 40_000);
        }
        // The runtime's own occasional allocations (a thread-pool thread, a timer) land in one window or another;
        // anything allocated per I/O would show in every one.
        Assert.True(best < 0.5, $"{best:F3} bytes per I/O in the best of three windows.");
    }
}
