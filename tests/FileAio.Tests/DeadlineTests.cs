using FileAio.Engines;

namespace FileAio.Tests;

public sealed class DeadlineTests
{
    [Fact]
    public void After_Zero_HasExpiredAtOnce()
    {
        Deadline deadline = Deadline.After(TimeSpan.Zero);
        Assert.True(deadline.HasExpired);
        Assert.Equal(TimeSpan.Zero, deadline.Remaining);
        Assert.Equal(0, deadline.RemainingMillisecondsRoundedUp);
    }

    [Fact]
    public void After_Infinite_NeverExpires()
    {
        Deadline deadline = Deadline.After(Timeout.InfiniteTimeSpan);
        Assert.True(deadline.IsInfinite);
        Assert.False(deadline.HasExpired);
        Assert.Equal(Timeout.InfiniteTimeSpan, deadline.Remaining);
        Assert.Equal(Timeout.Infinite, deadline.RemainingMillisecondsRoundedUp);
    }

    [Fact]
    public void After_TimeSpanMaxValue_DoesNotOverflowIntoThePast()
    {
        Deadline deadline = Deadline.After(TimeSpan.MaxValue);
        Assert.False(deadline.HasExpired);
        Assert.True(deadline.RemainingMillisecondsRoundedUp is Timeout.Infinite or > 1_000_000);
    }

    [Fact]
    public void RemainingMilliseconds_RoundsUp_SoASleepNeverEndsEarly()
    {
        Deadline deadline = Deadline.After(TimeSpan.FromTicks(1500)); // 0.15 ms
        Assert.InRange(deadline.RemainingMillisecondsRoundedUp, 0, 1);
        Deadline later = Deadline.After(TimeSpan.FromSeconds(10));
        Assert.InRange(later.RemainingMillisecondsRoundedUp, 9_000, 10_000);
    }
}
