namespace FileAio.Engines;

/// <summary>
/// Holds each flush until every write submitted before it has completed (SPEC §3), without making later operations
/// wait: writes are counted per epoch, and a flush closes the current epoch. Not thread-safe: callers serialize.
/// </summary>
/// <remarks>
/// io_uring's IOSQE_IO_DRAIN would give the same guarantee, but it also holds back every SQE submitted after the
/// flush — including the NOPs and eventfd reads that wake a waiting thread — until the flush completes, which turns a
/// flush behind a long-blocked operation into a deadlock. Keeping the barrier here avoids that.
/// </remarks>
/// <typeparam name="T">What identifies a held flush (a slot index, an operation).</typeparam>
internal sealed class FlushBarrier<T>
{
    /// <summary>Epochs tracked at once. With more flushes waiting than this, a new flush shares the newest epoch:
    /// it then also waits for writes submitted after it, which is stricter, never weaker.</summary>
    private const int Window = 64;

    private readonly int[] _writesInFlight = new int[Window];   // per epoch, indexed epoch % Window
    private readonly Queue<(T Flush, long Epoch)> _held = new();
    private long _epoch;    // the epoch writes starting now belong to
    private long _oldest;   // no epoch before this one has writes in flight

    public bool HasHeldFlushes => _held.Count > 0;

    /// <summary>Counts a write that is being submitted; returns its epoch, for <see cref="WriteFinished"/>.</summary>
    public long WriteStarted()
    {
        _writesInFlight[_epoch % Window]++;
        return _epoch;
    }

    public void WriteFinished(long epoch) => _writesInFlight[epoch % Window]--;

    /// <summary>True when <paramref name="flush"/> may be submitted now; otherwise it is held until
    /// <see cref="TryRelease"/> hands it back.</summary>
    public bool TryPass(T flush)
    {
        if (_held.Count == 0 && ClearThrough(_epoch))
        {
            return true;
        }
        _held.Enqueue((flush, _epoch));
        if (_epoch - _oldest < Window - 1)
        {
            _epoch++; // writes from now on do not hold this flush back
        }
        return false;
    }

    /// <summary>Hands back the oldest held flush whose earlier writes have all completed.</summary>
    public bool TryRelease(out T flush)
    {
        if (_held.TryPeek(out var held) && ClearThrough(held.Epoch))
        {
            _held.Dequeue();
            flush = held.Flush;
            return true;
        }
        flush = default!;
        return false;
    }

    /// <summary>Takes a held flush out (it was cancelled before reaching the kernel).</summary>
    public bool TryRemove(T flush, IEqualityComparer<T>? comparer = null)
    {
        comparer ??= EqualityComparer<T>.Default;
        int count = _held.Count;
        bool found = false;
        for (int i = 0; i < count; i++)
        {
            var held = _held.Dequeue();
            if (!found && comparer.Equals(held.Flush, flush))
            {
                found = true;
                continue;
            }
            _held.Enqueue(held);
        }
        return found;
    }

    /// <summary>Whether every write of every epoch up to <paramref name="epoch"/> has completed.</summary>
    private bool ClearThrough(long epoch)
    {
        while (_oldest < _epoch && _writesInFlight[_oldest % Window] == 0)
        {
            _oldest++;
        }
        return _oldest > epoch || (_oldest == epoch && _writesInFlight[epoch % Window] == 0);
    }
}
