namespace FileAio.Tests;

/// <summary>Auto picks an engine that works here and says which; an engine that cannot run says why.</summary>
public sealed class EngineSelectionTests
{
    [Fact]
    public void Auto_PicksASupportedEngine_AndTheContextSaysWhichOne()
    {
        AioLimits limits = AioContext.GetLimits();
        Assert.NotEqual(AioEngineKind.Auto, limits.Engine);
        Assert.True(limits.IsSupported);

        using var context = AioContext.Create(8);
        Assert.Equal(limits.Engine, context.Engine);
    }

    [Fact]
    public void ThreadPool_IsSupportedEverywhere()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.ThreadPool);
        Assert.True(limits.IsSupported);
        Assert.True(limits.MaxOutstanding > 1000);
    }

    [Fact]
    public void UnsupportedEngine_GivesItsReason_AndCreateThrowsWithIt()
    {
        foreach (AioEngineKind kind in new[] { AioEngineKind.IoUring, AioEngineKind.LinuxAio, AioEngineKind.PosixAio })
        {
            AioLimits limits = AioContext.GetLimits(kind);
            if (limits.IsSupported)
            {
                continue;
            }
            Assert.False(string.IsNullOrWhiteSpace(limits.UnsupportedReason));
            Assert.Equal(0, limits.MaxOutstanding);
            var e = Assert.Throws<NotSupportedException>(() => AioContext.Create(8, new AioContextOptions { Engine = kind }));
            Assert.Contains(limits.UnsupportedReason!, e.Message);
        }
    }

    [Fact]
    public void UnknownEngine_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AioContext.GetLimits((AioEngineKind)99));
    }
}
