using System.Diagnostics;
using FASTER.core;
using FileAio.Buffers;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>Throttle() as FASTER uses it: before each disk read, a session spins while it says true, on its own thread;
/// callbacks need a thread-pool thread. So it must count only the I/O FileAio still has, never callbacks waiting to run.</summary>
public abstract class ThrottleTests(AioEngineKind engine) : FasterTest(engine)
{
    private const int Limit = 8;
    private const int ReadsPerRound = 16; // twice the limit: every round goes over it
    private const int PageSize = 4096;

    private FileAioDevice NewThrottledDevice()
    {
        var device = new FileAioDevice(PathOf("log"), options: new FileAioDeviceOptions { Engine = Engine, InFlightLimit = Limit });
        device.Initialize(1L << 20);
        return device;
    }

    private static void WritePages(FileAioDevice device, AlignedBuffer buffer, int pages)
    {
        for (int i = 0; i < pages; i++)
        {
            Assert.Equal(0u, DeviceCalls.Write(device, buffer.Address + i * PageSize, (ulong)(i * PageSize), PageSize).ErrorCode);
        }
        // The last write's callback has signalled, not necessarily returned: it counts until it has.
        Assert.True(SpinWait.SpinUntil(() => device.InFlight == 0, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Throttle_WithCallbacksHeldBack_IsFalseOnceFileAioHasCompletedTheIo()
    {
        // Declared first, disposed last: the memory outlives every read, also when the test fails.
        using var buffer = new AlignedBuffer(ReadsPerRound * PageSize, PageSize);
        using var release = new ManualResetEventSlim();
        using var called = new CountdownEvent(ReadsPerRound);
        using FileAioDevice device = NewThrottledDevice();
        WritePages(device, buffer, ReadsPerRound);

        int errors = 0;
        for (int i = 0; i < ReadsPerRound; i++)
        {
            device.ReadAsync((ulong)(i * PageSize), buffer.Address + i * PageSize, PageSize, (error, bytes, _) =>
            {
                if (error != 0 || bytes != PageSize)
                {
                    Interlocked.Increment(ref errors);
                }
                release.Wait(); // a callback that cannot go on yet, as when no pool thread is free to run it
                called.Signal();
            }, null!);
        }
        int pending = device.InFlight; // no callback has returned: the device still counts every read
        bool fell = SpinWait.SpinUntil(() => !device.Throttle(), TimeSpan.FromSeconds(10));
        release.Set();

        Assert.True(called.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(ReadsPerRound, pending);
        Assert.True(fell, "Throttle() stayed true with every read completed by FileAio and only callbacks pending.");
        Assert.Equal(0, errors);
    }

    [Fact]
    public async Task SessionsOnPoolThreads_ReadingOverTheLimit_NeverSpinLong()
    {
        const int Rounds = 20;
        TimeSpan longestAllowedSpin = TimeSpan.FromSeconds(5); // an I/O's latency is what a spin should last: 1000x that
        // As many sessions as the pool may run at once, and the pool kept at that size, so that no thread it adds later
        // can come to the rescue: callbacks run only if the sessions' spins end by themselves.
        ThreadPool.GetMaxThreads(out int maxWorkers, out int maxIo);
        ThreadPool.GetMinThreads(out int minWorkers, out _);
        int sessions = Math.Max(Environment.ProcessorCount, minWorkers);

        // Each session reads into pages of its own. Declared before the device, so disposed after it: Dispose waits for
        // every read, also those a failing session left in flight.
        using var pages = new AlignedBuffer(sessions * ReadsPerRound * PageSize, PageSize);
        using FileAioDevice device = NewThrottledDevice();
        WritePages(device, pages, ReadsPerRound);

        Assert.True(ThreadPool.SetMaxThreads(sessions, maxIo));
        try
        {
            Task<TimeSpan>[] running = [.. Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
            {
                TimeSpan longest = TimeSpan.Zero;
                IntPtr mine = pages.Address + s * ReadsPerRound * PageSize;
                for (int round = 0; round < Rounds; round++)
                {
                    var roundDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    int left = ReadsPerRound;
                    for (int i = 0; i < ReadsPerRound; i++)
                    {
                        longest = Max(longest, SpinLikeFaster(device, longestAllowedSpin));
                        device.ReadAsync((ulong)(i * PageSize), mine + i * PageSize, PageSize, (_, _, _) =>
                        {
                            if (Interlocked.Decrement(ref left) == 0)
                            {
                                roundDone.SetResult();
                            }
                        }, null!);
                    }
                    await roundDone.Task; // gives the pool thread back, as a session awaiting FASTER's ReadAsync does
                }
                return longest;
            }))];
            TimeSpan[] longest = await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
            Assert.All(longest, spin => Assert.True(spin < longestAllowedSpin, $"a session spun {spin.TotalMilliseconds:F0} ms"));
        }
        finally
        {
            Assert.True(ThreadPool.SetMaxThreads(maxWorkers, maxIo));
        }
    }

    /// <summary>FASTER's AllocatorBase.AsyncGetFromDisk before every disk read, with a deadline so that a device that
    /// would spin for ever fails the test instead of hanging it.</summary>
    private static TimeSpan SpinLikeFaster(FileAioDevice device, TimeSpan deadline)
    {
        long start = Stopwatch.GetTimestamp();
        while (device.Throttle())
        {
            device.TryComplete();
            Thread.Yield();
            if (Stopwatch.GetElapsedTime(start) > deadline)
            {
                throw new TimeoutException($"Throttle() stayed true for {deadline.TotalSeconds} s on a session's pool thread.");
            }
        }
        return Stopwatch.GetElapsedTime(start);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
