using System.Diagnostics;

namespace FileAio.Engines;

/// <summary>
/// A point in time on the monotonic clock (<see cref="Stopwatch"/>), from which the time still left is computed
/// afresh after every interrupted sleep. One clock for every engine, so timeouts never mix clocks.
/// </summary>
internal readonly struct Deadline
{
    private readonly long _expiresAt; // Stopwatch ticks; long.MaxValue = never

    private Deadline(long expiresAt) => _expiresAt = expiresAt;

    public static Deadline Infinite => new(long.MaxValue);

    /// <summary>A deadline that has already passed: a wait becomes a poll.</summary>
    public static Deadline Expired => new(0);

    /// <summary>A deadline <paramref name="timeout"/> from now; <see cref="Timeout.InfiniteTimeSpan"/> never expires.</summary>
    public static Deadline After(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Infinite;
        }
        // In double first: TimeSpan.MaxValue in Stopwatch ticks does not fit in a long, and an overflowing cast
        // would give a deadline in the past.
        double ticks = timeout.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        long now = Stopwatch.GetTimestamp();
        return ticks >= long.MaxValue - now ? Infinite : new Deadline(now + (long)ticks);
    }

    public bool IsInfinite => _expiresAt == long.MaxValue;

    /// <summary>Time left, never negative; <see cref="Timeout.InfiniteTimeSpan"/> when infinite.</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (IsInfinite)
            {
                return Timeout.InfiniteTimeSpan;
            }
            long left = _expiresAt - Stopwatch.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, left);
        }
    }

    public bool HasExpired => !IsInfinite && Stopwatch.GetTimestamp() >= _expiresAt;

    /// <summary>Time left in whole milliseconds, rounded up so a sleep never ends before the deadline;
    /// <see cref="Timeout.Infinite"/> when infinite.</summary>
    public int RemainingMillisecondsRoundedUp
    {
        get
        {
            if (IsInfinite)
            {
                return Timeout.Infinite;
            }
            double ms = Math.Ceiling(Remaining.TotalMilliseconds);
            return ms >= int.MaxValue ? int.MaxValue - 1 : (int)ms;
        }
    }
}
