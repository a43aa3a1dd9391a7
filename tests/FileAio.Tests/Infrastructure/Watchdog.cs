namespace FileAio.Tests.Infrastructure;

/// <summary>Turns a hang into a test failure: if not disposed within the timeout, runs an action that unblocks what
/// the test waits for (feeds a FIFO, releases a stall) and records that it fired, which the test then asserts.</summary>
internal sealed class Watchdog : IDisposable
{
    private readonly Timer _timer;
    private int _fired;

    public Watchdog(TimeSpan timeout, Action unblock)
    {
        _timer = new Timer(_ =>
        {
            Volatile.Write(ref _fired, 1);
            unblock();
        }, null, timeout, Timeout.InfiniteTimeSpan);
    }

    public bool Fired => Volatile.Read(ref _fired) != 0;

    public void Dispose() => _timer.Dispose();
}
