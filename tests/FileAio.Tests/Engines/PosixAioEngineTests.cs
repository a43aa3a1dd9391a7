using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FileAio.Buffers;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>What is particular to the POSIX AIO engine on glibc: a batch with a bad descriptor in the middle, cancel and
/// wakeup races, the process-wide doorbell under many contexts, create/dispose leaks, O_DIRECT.</summary>
public sealed partial class PosixAioEngineTests : FileAioTest
{
    public PosixAioEngineTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipWhen(!limits.IsSupported, $"PosixAio cannot run here: {limits.UnsupportedReason}");
    }

    private AioContext NewContext(int capacity = 64, bool waitWithout = false) =>
        Own(AioContext.Create(capacity, new AioContextOptions { Engine = AioEngineKind.PosixAio, WaitWithoutPendingRequests = waitWithout }));

    [DllImport("libc", SetLastError = true)]
    private static extern int dup2(int oldFd, int newFd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    private static void AssertPattern(ReadOnlySpan<byte> data, long offset)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != PatternByte(offset + i))
            {
                Assert.Fail($"byte {offset + i} is {data[i]}, not {PatternByte(offset + i)}");
            }
        }
    }

    internal static List<AioRequest> WaitAll(AioContext context, int count)
    {
        var seen = new List<AioRequest>();
        var output = new AioRequest[64];
        while (seen.Count < count)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            Assert.NotEqual(AioWaitReason.TimedOut, result.Reason);
            seen.AddRange(output.AsSpan(0, result.Count).ToArray());
        }
        return seen;
    }

    [Fact]
    public void Batch_BadDescriptorInTheMiddle_EveryRequestIsAccounted_TheOthersRead()
    {
        AioContext context = NewContext();
        SafeFileHandle good = Open(CreatePatternFile("f.bin", 1 << 16));
        // A descriptor that is valid when prepared and closed before the batch goes to lio_listio.
        const int BadFd = 777;
        Assert.Equal(BadFd, dup2((int)good.DangerousGetHandle(), BadFd));
        using var bad = new SafeFileHandle(BadFd, ownsHandle: false);
        var batch = new AioRequest[5];
        var buffers = new byte[5][];
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] = Own(new AioRequest());
            buffers[i] = new byte[4096];
            batch[i].PrepareRead(i == 2 ? bad : good, i * 4096L, buffers[i], i);
        }
        Assert.Equal(0, close(BadFd));

        int accepted = context.Submit(batch);
        // glibc queues a request without looking at its descriptor: all five are accepted and the bad one fails in
        // its completion. Whatever the library did, every request is either reaped or was refused with its error.
        var reaped = WaitAll(context, batch.Count(r => r.State == AioRequestState.Submitted));
        Assert.Equal(5, accepted);
        Assert.Equal(5, reaped.Count);
        Assert.Equal(AioStatus.Failed, batch[2].Status);
        Assert.Equal(9 /* EBADF */, batch[2].ErrorCode);
        for (int i = 0; i < batch.Length; i++)
        {
            if (i != 2)
            {
                Assert.Equal(AioStatus.Success, batch[i].Status);
                Assert.Equal(4096, batch[i].BytesTransferred);
                AssertPattern(buffers[i], i * 4096L);
            }
        }
    }

    [Fact]
    public void Cancel_RacingTheReaper_1000Rounds_EachRequestEndsExactlyOnce()
    {
        const int Rounds = 1000, PerRound = 16;
        AioContext context = NewContext(capacity: PerRound);
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        var requests = Enumerable.Range(0, PerRound).Select(_ => Own(new AioRequest())).ToArray();
        var buffers = requests.Select(_ => new byte[512]).ToArray();
        var output = new AioRequest[PerRound];
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < PerRound; i++)
            {
                requests[i].PrepareRead(file, (round + i) % 128 * 512L, buffers[i], i);
            }
            Assert.Equal(PerRound, context.Submit(requests));
            var canceled = new ConcurrentBag<AioRequest>();
            var canceller = Task.Run(() =>
            {
                foreach (AioRequest r in requests)
                {
                    if (r.Cancel() == AioCancelResult.Canceled)
                    {
                        canceled.Add(r);
                    }
                }
            });
            var reported = new HashSet<AioRequest>(ReferenceEqualityComparer.Instance);
            while (reported.Count + canceled.Count < PerRound || !canceller.IsCompleted)
            {
                AioWaitResult result = context.Wait(1, TimeSpan.FromMilliseconds(50), output);
                for (int i = 0; i < result.Count; i++)
                {
                    Assert.True(reported.Add(output[i]), "reported twice");
                }
                if (context.Outstanding == 0 && canceller.IsCompleted)
                {
                    break;
                }
            }
            canceller.Wait();
            Assert.Equal(PerRound, reported.Count + canceled.Count);
            Assert.Empty(reported.Intersect(canceled));
            foreach (AioRequest r in reported)
            {
                Assert.Equal(512, r.BytesTransferred);
                AssertPattern(buffers[(int)r.UserState!], ((round + (int)r.UserState!) % 128) * 512L);
            }
            Assert.Equal(0, context.Outstanding);
        }
    }

    [Fact]
    public void Wakeup_RacingAWaiter_10000Rounds_EachWaitIsInterrupted_NoneLost()
    {
        const int Rounds = 10_000;
        AioContext context = NewContext(waitWithout: true);
        var output = new AioRequest[4];
        using var go = new SemaphoreSlim(0);
        var waker = new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                go.Wait();
                context.Wakeup();
            }
        }) { IsBackground = true };
        waker.Start();
        for (int i = 0; i < Rounds; i++)
        {
            go.Release(); // the Wakeup races this Wait: before it, during its checks, or while it sleeps
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            Assert.Equal(AioWaitReason.Interrupted, result.Reason);
        }
        Assert.True(waker.Join(LongTimeout));
        // Exactly once: no Wakeup is left over for another Wait.
        Assert.Equal(AioWaitReason.TimedOut, context.Wait(1, TimeSpan.FromMilliseconds(20), output).Reason);
    }

    [Fact]
    public void ManyContexts_MoreThanGlibcsPool_AllAsleep_OthersStillComplete_AndAllWake()
    {
        const int Sleepers = 40, Workers = 24; // glibc's pool has 20 helper threads
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 20));
        var sleepers = Enumerable.Range(0, Sleepers).Select(_ => NewContext(waitWithout: true)).ToArray();
        var sleeping = sleepers.Select(c => Task.Factory.StartNew(
            () => c.Wait(1, LongTimeout, new AioRequest[1]).Reason, TaskCreationOptions.LongRunning)).ToArray();
        Thread.Sleep(100); // most of them asleep in aio_suspend now

        var workers = Enumerable.Range(0, Workers).Select(w => Task.Factory.StartNew(() =>
        {
            AioContext context = NewContext(capacity: 8);
            var requests = Enumerable.Range(0, 8).Select(_ => new AioRequest()).ToArray();
            var buffers = requests.Select(_ => new byte[4096]).ToArray();
            for (int i = 0; i < 8; i++)
            {
                requests[i].PrepareRead(file, (w * 8 + i) % 256 * 4096L, buffers[i], i);
            }
            Assert.Equal(8, context.Submit(requests));
            foreach (AioRequest r in WaitAll(context, 8))
            {
                int i = (int)r.UserState!;
                Assert.Equal(4096, r.BytesTransferred);
                AssertPattern(buffers[i], (w * 8 + i) % 256 * 4096L);
            }
            foreach (AioRequest r in requests)
            {
                r.Dispose();
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(Task.WaitAll(workers, LongTimeout), "Requests did not complete while 40 contexts slept.");

        foreach (AioContext c in sleepers)
        {
            c.Wakeup();
        }
        Assert.True(Task.WaitAll(sleeping, LongTimeout), "A sleeping context missed its Wakeup.");
        Assert.All(sleeping, t => Assert.Equal(AioWaitReason.Interrupted, t.Result));
    }

    [Fact]
    public void DirectIo_ReadsAtQueueDepth32_Verify()
    {
        Require.Linux();
        const int Depth = 32, Block = 4096;
        SafeFileHandle file = Open(CreatePatternFile("direct.bin", 1 << 20), FileMode.Open, FileAccess.ReadWrite, direct: true);
        AioContext context = NewContext(capacity: Depth);
        var buffers = Enumerable.Range(0, Depth).Select(_ => Own(new AlignedBuffer(Block))).ToArray();
        var requests = Enumerable.Range(0, Depth).Select(_ => Own(new AioRequest())).ToArray();
        var random = new Random(3);
        var offsets = new long[Depth];
        for (int i = 0; i < Depth; i++)
        {
            offsets[i] = random.Next(256) * (long)Block;
            requests[i].PrepareRead(file, offsets[i], buffers[i].Memory, i);
        }
        Assert.Equal(Depth, context.Submit(requests));
        foreach (AioRequest r in WaitAll(context, Depth))
        {
            int i = (int)r.UserState!;
            Assert.Equal(AioStatus.Success, r.Status);
            Assert.Equal(Block, r.BytesTransferred);
            AssertPattern(buffers[i].Memory.Span, offsets[i]);
        }
    }

    /// <summary>Wait(2) over two descriptors, each with one quick read and one held in the kernel behind it: the two
    /// quick ones are all the caller asked for, so Wait returns them — the reaper must not sleep on the held ones
    /// (listing each descriptor's second request would let both quick ones finish unseen).</summary>
    [Fact]
    public void Wait_ForTwo_OverTwoDescriptors_EachWithAHeldReadBehindAQuickOne_ReturnsTheQuickOnes()
    {
        UserfaultStall stallA = NewStall(), stallB = NewStall();
        AioContext context = NewContext();
        SafeFileHandle fileA = Open(CreatePatternFile("a.bin", 8192));
        SafeFileHandle fileB = Open(CreatePatternFile("b.bin", 8192));
        var requests = Enumerable.Range(0, 4).Select(_ => Own(new AioRequest())).ToArray();
        byte[] quickA = new byte[4096], quickB = new byte[4096];
        requests[0].PrepareRead(fileA, 0, quickA, "A1");
        requests[1].PrepareRead(fileA, 4096, stallA.Memory, "A2");
        requests[2].PrepareRead(fileB, 0, quickB, "B1");
        requests[3].PrepareRead(fileB, 4096, stallB.Memory, "B2");
        Assert.Equal(4, context.Submit(requests));

        var output = new AioRequest[4];
        var seen = new List<string>();
        while (seen.Count < 2)
        {
            AioWaitResult result = context.Wait(2 - seen.Count, TimeSpan.FromSeconds(10), output);
            Assert.NotEqual(AioWaitReason.TimedOut, result.Reason);
            seen.AddRange(output.AsSpan(0, result.Count).ToArray().Select(r => (string)r.UserState!));
        }
        Assert.Equal(["A1", "B1"], seen.Order());
        AssertPattern(quickA, 0);
        AssertPattern(quickB, 0);

        stallA.Release();
        stallB.Release();
        Assert.Equal(2, WaitAll(context, 2).Count);
    }
}
