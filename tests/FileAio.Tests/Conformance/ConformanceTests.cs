using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

/// <summary>
/// The contract of SPEC.md §1–3, §6 and §7, checked against one engine. Each engine joins the suite with one sealed
/// subclass that names it (see <see cref="ThreadPoolConformanceTests"/>). The tests are split by behaviour into the
/// partial files beside this one.
/// </summary>
public abstract partial class ConformanceTests : FileAioTest
{
    /// <summary>The engine under test.</summary>
    protected abstract AioEngineKind EngineKind { get; }

    /// <summary>Makes operations this engine cannot finish until released (see <see cref="KernelHold"/>).</summary>
    protected abstract KernelHold CreateHold(int count);

    /// <summary>A <see cref="KernelHold"/> for <paramref name="count"/> reads and writes, released first at the end
    /// of the test whatever happens.</summary>
    protected KernelHold Hold(int count = 4)
    {
        KernelHold hold = Own(CreateHold(count));
        ReleaseFirstAtEnd(hold.Release);
        return hold;
    }

    /// <summary>Submits one held read: it stays inside the kernel until the hold is released.</summary>
    protected AioRequest SubmitHeldRead(AioContext context, KernelHold hold, int index = 0, object? userState = null)
    {
        AioRequest request = Own(new AioRequest());
        hold.PrepareRead(request, index, userState);
        Assert.Equal(1, context.Submit([request]));
        return request;
    }

    protected AioContext NewContext(int capacity = 64, bool waitWithoutPendingRequests = false) =>
        Own(CreateContext(capacity, waitWithoutPendingRequests));

    /// <summary>Creates a context of the engine under test (not owned by the test; most tests use <see cref="NewContext"/>).</summary>
    protected virtual AioContext CreateContext(int capacity, bool waitWithoutPendingRequests = false) =>
        AioContext.Create(capacity, new AioContextOptions
        {
            Engine = EngineKind,
            WaitWithoutPendingRequests = waitWithoutPendingRequests,
        });

    protected AioRequest[] NewRequests(int count)
    {
        var requests = new AioRequest[count];
        for (int i = 0; i < count; i++)
        {
            requests[i] = Own(new AioRequest());
        }
        return requests;
    }

    /// <summary>Reaps until <paramref name="count"/> requests were reported (failing after 30 s), in report order.</summary>
    protected static List<AioRequest> WaitForAll(AioContext context, int count, int spanLength = 256)
    {
        var output = new AioRequest[spanLength];
        var reported = new List<AioRequest>(count);
        DateTime giveUp = DateTime.UtcNow + LongTimeout;
        while (reported.Count < count)
        {
            TimeSpan left = giveUp - DateTime.UtcNow;
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

    /// <summary>Submits every request, resubmitting whatever did not fit (a full context is not an error).</summary>
    protected static void SubmitAll(AioContext context, ReadOnlySpan<AioRequest> requests)
    {
        while (!requests.IsEmpty)
        {
            int accepted = context.Submit(requests);
            Assert.True(accepted > 0, "Submit accepted nothing on a context with room.");
            requests = requests[accepted..];
        }
    }

    protected SafeFileHandle OpenPatternFile(long length, string name = "data.bin", FileAccess access = FileAccess.ReadWrite) =>
        Open(CreatePatternFile(name, length), FileMode.Open, access);

    protected static void AssertPattern(ReadOnlySpan<byte> data, long fileOffset, int seed = 1)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != PatternByte(fileOffset + i, seed))
            {
                Assert.Fail($"Byte at file offset {fileOffset + i} is {data[i]}, expected {PatternByte(fileOffset + i, seed)}.");
            }
        }
    }

    [Fact]
    public void Create_ReportsTheEngineThatRunsAndItsCapacity()
    {
        AioContext context = NewContext(capacity: 17);
        Assert.Equal(EngineKind, context.Engine);
        Assert.Equal(17, context.Capacity);
        Assert.Equal(0, context.Outstanding);
    }

    [Fact]
    public void Create_UnlimitedCapacity_IsMappedToTheEngineMaximum()
    {
        AioLimits limits = AioContext.GetLimits(EngineKind);
        AioContext context = NewContext(capacity: AioContext.UnlimitedCapacity);
        Assert.True(limits.IsSupported);
        Assert.Equal(limits.MaxOutstanding, context.Capacity);
        Assert.InRange(context.Capacity, 1, int.MaxValue - 1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Create_NonPositiveCapacity_ThrowsArgumentOutOfRange(int capacity)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => AioContext.Create(capacity, new AioContextOptions { Engine = EngineKind }));
        Assert.Contains("at least one request", e.Message);
    }

    [Fact]
    public void GetLimits_ForThisEngine_SaysSupportedWithNoReason()
    {
        AioLimits limits = AioContext.GetLimits(EngineKind);
        Assert.Equal(EngineKind, limits.Engine);
        Assert.True(limits.IsSupported);
        Assert.Null(limits.UnsupportedReason);
        Assert.True(limits.MaxOutstanding > 0);
    }

    [Fact]
    public void AssociateWithFile_IsAccepted_AndChecksItsArgument()
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        context.AssociateWithFile(file);
        Assert.Throws<ArgumentNullException>(() => context.AssociateWithFile(null!));
    }
}
