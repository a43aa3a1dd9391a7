using System.Diagnostics;
using System.Runtime.ExceptionServices;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

/// <summary>
/// The contract of SPEC.md §1–3, §6 and §7, checked on every context variant (<see cref="TestEngines.Contexts"/>):
/// each test's first parameter names the variant and its body runs through <see cref="Run"/>. The tests are split by
/// behaviour into the partial files beside this one.
/// </summary>
public sealed partial class ConformanceTests : FileAioTest
{
    private ContextVariant _variant = null!;

    /// <summary>The engine under test.</summary>
    private AioEngineKind EngineKind => _variant.Engine.Kind;

    /// <summary>
    /// Runs a test body on one variant. A shared context's test runs here; an owned (SingleThreaded) context takes
    /// every call but Wakeup from the thread that created it, disposal included, so its test runs whole on a thread
    /// of its own, which also lets held operations go and disposes the test's contexts before it ends.
    /// </summary>
    private void Run(string variant, Action body)
    {
        _variant = TestEngines.Context(variant);
        _variant.Engine.SkipUnlessSupported();
        if (!_variant.Owned)
        {
            body();
            return;
        }
        ExceptionDispatchInfo? failure = null;
        var owner = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            try
            {
                EndContextsOnThisThread();
            }
            catch (Exception e)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
            }
        }) { Name = "owned context test" };
        owner.Start();
        owner.Join();
        failure?.Throw();
    }

    /// <summary>Operations this engine cannot finish until released: reads of a FIFO nobody writes to and writes into
    /// a full one, which every engine holds in the kernel (io_uring parks them on the FIFO, the thread-pool engine
    /// waits in poll) and can cancel while they wait.</summary>
    private FifoHold CreateHold(int count)
    {
        Require.Linux();
        return new FifoHold(Directory, count);
    }

    /// <summary>A <see cref="FifoHold"/> for <paramref name="count"/> reads and writes, released first at the end
    /// of the test whatever happens.</summary>
    private FifoHold Hold(int count = 4)
    {
        FifoHold hold = Own(CreateHold(count));
        ReleaseFirstAtEnd(hold.Release);
        return hold;
    }

    /// <summary>Submits one held read: it stays inside the kernel until the hold is released.</summary>
    private AioRequest SubmitHeldRead(AioContext context, FifoHold hold, int index = 0, object? userState = null)
    {
        AioRequest request = Own(new AioRequest());
        hold.PrepareRead(request, index, userState);
        Assert.Equal(1, context.Submit([request]));
        return request;
    }

    /// <summary>Once a hold is released: one more read of its FIFO, waited for, so that data has flowed through the
    /// FIFO since (what a cancelled read's buffer must not have received).</summary>
    private void ReadOnceMoreFrom(AioContext context, FifoHold hold)
    {
        AioRequest probe = Own(new AioRequest());
        probe.PrepareRead(hold.ReadFifo, 0, new byte[4096]);
        SubmitAll(context, [probe]);
        Assert.Contains(probe, WaitForAll(context, 1));
        Assert.Equal(AioStatus.Success, probe.Status);
    }

    private AioContext NewContext(int capacity = 64, bool waitWithoutPendingRequests = false) =>
        Own(CreateContext(capacity, waitWithoutPendingRequests));

    /// <summary>Creates a context of the variant under test (not owned by the test; most tests use <see cref="NewContext"/>).</summary>
    private AioContext CreateContext(int capacity, bool waitWithoutPendingRequests = false) =>
        _variant.Create(capacity, waitWithoutPendingRequests);

    private AioRequest[] NewRequests(int count)
    {
        var requests = new AioRequest[count];
        for (int i = 0; i < count; i++)
        {
            requests[i] = Own(new AioRequest());
        }
        return requests;
    }

    /// <summary>Reaps until <paramref name="count"/> requests were reported (failing after 30 s), in report order.</summary>
    private static List<AioRequest> WaitForAll(AioContext context, int count, int spanLength = 256)
    {
        var output = new AioRequest[spanLength];
        var reported = new List<AioRequest>(count);
        var waited = Stopwatch.StartNew(); // monotonic: a step of the wall clock must not end the wait
        while (reported.Count < count)
        {
            TimeSpan left = LongTimeout - waited.Elapsed;
            Assert.True(left > TimeSpan.Zero, $"Only {reported.Count} of {count} completions arrived within {LongTimeout}.");
            AioWaitResult result = context.Wait(1, left, output);
            for (int i = 0; i < result.Count; i++)
            {
                reported.Add(output[i]);
            }
            Assert.NotEqual(AioWaitReason.NoRequests, result.Reason);
        }
        return reported;
    }

    /// <summary>Submits every request, resubmitting whatever did not fit (a full context is not an error: another
    /// thread's Wait makes room, and a context that stays full for <see cref="FileAioTest.LongTimeout"/> fails).</summary>
    private static void SubmitAll(AioContext context, ReadOnlySpan<AioRequest> requests)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!requests.IsEmpty)
        {
            int accepted = context.Submit(requests);
            if (accepted == 0)
            {
                Assert.True(clock.Elapsed < LongTimeout, $"Submit accepted nothing for {LongTimeout}; {context.Outstanding} of {context.Capacity} outstanding.");
                Thread.Sleep(1);
                continue;
            }
            clock.Restart();
            requests = requests[accepted..];
        }
    }

    private SafeFileHandle OpenPatternFile(long length, string name = "data.bin", FileAccess access = FileAccess.ReadWrite) =>
        Open(CreatePatternFile(name, length), FileMode.Open, access);

    private static void AssertPattern(ReadOnlySpan<byte> data, long fileOffset, int seed = 1)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != PatternByte(fileOffset + i, seed))
            {
                Assert.Fail($"Byte at file offset {fileOffset + i} is {data[i]}, expected {PatternByte(fileOffset + i, seed)}.");
            }
        }
    }

    [Theory]
    [EachContext]
    public void Create_ReportsTheEngineThatRunsAndItsCapacity(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext(capacity: 17);
        Assert.Equal(EngineKind, context.Engine);
        Assert.Equal(17, context.Capacity);
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext]
    public void Create_UnlimitedCapacity_IsMappedToTheEngineMaximum(string engine) => Run(engine, () =>
    {
        AioLimits limits = AioContext.GetLimits(EngineKind);
        AioContext context = NewContext(capacity: AioContext.UnlimitedCapacity);
        Assert.True(limits.IsSupported);
        Assert.Equal(limits.MaxOutstanding, context.Capacity);
        Assert.InRange(context.Capacity, 1, int.MaxValue - 1);
    });

    [Theory]
    [EachContext(0)]
    [EachContext(-1)]
    public void Create_NonPositiveCapacity_ThrowsArgumentOutOfRange(string engine, int capacity) => Run(engine, () =>
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _variant.Create(capacity, false));
        Assert.Contains("at least one request", e.Message);
    });

    [Theory]
    [EachContext]
    public void GetLimits_ForThisEngine_SaysSupportedWithNoReason(string engine) => Run(engine, () =>
    {
        AioLimits limits = AioContext.GetLimits(EngineKind);
        Assert.Equal(EngineKind, limits.Engine);
        Assert.True(limits.IsSupported);
        Assert.Null(limits.UnsupportedReason);
        Assert.True(limits.MaxOutstanding > 0);
    });

    [Theory]
    [EachContext]
    public void AssociateWithFile_IsAccepted_AndChecksItsArgument(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        context.AssociateWithFile(file);
        Assert.Throws<ArgumentNullException>(() => context.AssociateWithFile(null!));
    });
}
