namespace FileAio;

/// <summary>
/// Lets calls run concurrently with each other but not with teardown: each call enters and exits; teardown first
/// refuses new entries, then waits until the calls inside have left (the same idea as SafeHandle's reference count).
/// A mutable struct: keep it in a field and never copy it.
/// </summary>
internal struct LifetimeGuard
{
    private const int DisposingBit = 1 << 30;
    private int _value; // DisposingBit | number of calls inside

    /// <summary>Enters unless teardown has begun.</summary>
    public bool TryEnter()
    {
        int value = Interlocked.Increment(ref _value);
        if ((value & DisposingBit) != 0)
        {
            Interlocked.Decrement(ref _value);
            return false;
        }
        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _value);

    public readonly bool IsDisposing => (Volatile.Read(in _value) & DisposingBit) != 0;

    /// <summary>Refuses further entries. False when teardown had already begun (another caller owns it).</summary>
    public bool TryBeginDispose()
    {
        while (true)
        {
            int value = Volatile.Read(ref _value);
            if ((value & DisposingBit) != 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _value, value | DisposingBit, value) == value)
            {
                return true;
            }
        }
    }

    /// <summary>Waits until every call that entered before <see cref="TryBeginDispose"/> has exited.</summary>
    public void WaitForCallsToLeave()
    {
        var spinner = new SpinWait();
        while ((Volatile.Read(ref _value) & ~DisposingBit) != 0)
        {
            spinner.SpinOnce(sleep1Threshold: 20);
        }
    }
}
