using FileAio.Interop;

namespace FileAio.Engines.IoUring;

/// <summary>
/// The doorbell: how another thread ends the reaper's sleep. In a shared ring it is a NOP the waking thread posts (at
/// most one in the ring at a time); in an owned ring, which other threads may not enter, an eventfd whose read the ring
/// keeps armed. Its CQE only ends the sleep; <c>_wakeupPending</c>, which a Reap alone takes, says whether a wakeup is
/// pending, so that one Wakeup is reported once.
/// </summary>
internal sealed unsafe partial class IoUringEngine
{
    public void Wakeup()
    {
        // Full fence: the flag is visible before the doorbell rings, so the reaper that takes the ring sees it.
        Interlocked.Exchange(ref _wakeupPending, 1);
        RingDoorbell();
    }

    /// <summary>Ends the reaper's sleep (a wakeup when <c>_wakeupPending</c> is set, else a kick). Any thread.</summary>
    private void RingDoorbell()
    {
        if (_owned)
        {
            // The eventfd's counter coalesces rings until the armed read takes them.
            ulong one = 1;
            Syscalls.Write(_eventFd, &one, sizeof(ulong));
            return;
        }
        if (Interlocked.CompareExchange(ref _nopArmed, 1, 0) == 0)
        {
            lock (_sqLock)
            {
                // A shared ring's SQ is empty whenever no Start runs (remark 2), so there is room.
                SqePrep.Nop(_queue.NextSqe(), DoorbellUserData);
                SubmitOrFail();
            }
        }
    }

    /// <summary>The doorbell's CQE was harvested: re-arm it. Whether it carried a wakeup is not decided here: only a
    /// Reap takes the flag (<see cref="TakePendingWakeup"/>), so a canceller's harvest never consumes a wakeup.</summary>
    private void OnDoorbell()
    {
        if (_owned)
        {
            _eventFdArmed = false;
            if (!_stopping)
            {
                lock (_sqLock)
                {
                    ArmDoorbellReadUnsynchronized(); // the count was read (and reset): arm for the next ring
                }
            }
        }
        else
        {
            Interlocked.Exchange(ref _nopArmed, 0); // consumed: the next ring posts a new NOP
        }
    }

    /// <summary>Consumes a pending wakeup: true for exactly one reaper per <see cref="Wakeup"/> (or per several that
    /// coalesced). Read first, so that the common case writes no shared cache line.</summary>
    private bool TakePendingWakeup() =>
        Volatile.Read(ref _wakeupPending) != 0 && Interlocked.Exchange(ref _wakeupPending, 0) == 1;

    /// <summary>Keeps a read of the doorbell eventfd in an owned ring; it reaches the kernel with the owner's next
    /// enter, which always submits what is pending. Caller holds <c>_sqLock</c>.</summary>
    private void ArmDoorbellReadUnsynchronized()
    {
        if (_queue.SqSpace == 0)
        {
            SubmitOrFail();
        }
        // Offset -1: an eventfd has no position.
        SqePrep.Transfer(_queue.NextSqe(), read: true, _eventFd, -1, (byte*)_eventFdValue, sizeof(ulong), DoorbellUserData);
        _eventFdArmed = true;
    }
}
