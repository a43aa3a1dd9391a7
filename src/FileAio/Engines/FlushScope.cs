namespace FileAio.Engines;

/// <summary>
/// The writes a flush waits for. A flush in a scope completes only after every write of the same scope submitted
/// before it has completed, and waits for nothing else: a context is one scope (SPEC §3, every write submitted to
/// the context), an async file is one scope of its own (SPEC §4, that file's writes only). Writes are counted per
/// epoch; a flush closes the current epoch and is held until no write of its epoch or an earlier one is in flight.
/// Later writes, and other scopes, are never held up.
/// </summary>
/// <remarks>
/// <para>io_uring's IOSQE_IO_DRAIN would give the ordering too, but it holds back every later SQE of the ring —
/// other files' work and the wakeup that ends a waiter's sleep — until the flush completes, so a flush behind a write
/// blocked on a full FIFO would stall everything. Holding the flush here costs nothing to anyone else.</para>
/// <para>Not thread-safe. All the operations of a scope go to one engine, which serialises every call (under its
/// barrier lock, or on its owning thread).</para>
/// </remarks>
internal sealed class FlushScope
{
    /// <summary>Epochs tracked at once. With more flushes waiting than this, a new flush shares the newest epoch: it
    /// then also waits for writes submitted after it, which is stricter, never weaker.</summary>
    private const int Window = 64;

    private readonly int[] _writesInFlight = new int[Window];   // per epoch, indexed epoch % Window
    private readonly Queue<(IoOperation Flush, long Epoch)> _held = new();
    private long _epoch;    // the epoch writes starting now belong to
    private long _oldest;   // no epoch before this one has writes in flight

    /// <summary>How many flushes wait for writes.</summary>
    public int HeldCount => _held.Count;

    /// <summary>Counts a write that is being started; stores its epoch in the operation, for
    /// <see cref="WriteFinished(IoOperation)"/>.</summary>
    public void WriteStarted(IoOperation write)
    {
        _writesInFlight[_epoch % Window]++;
        write.WriteEpoch = _epoch;
    }

    /// <summary>A write counted by <see cref="WriteStarted"/> has left the kernel (completed or cancelled). Returns
    /// whether a held flush may now be released (<see cref="TryRelease"/>).</summary>
    public bool WriteFinished(IoOperation write) => WriteFinished(write.WriteEpoch);

    /// <summary><see cref="WriteFinished(IoOperation)"/> for a write of epoch <paramref name="epoch"/>, by a caller
    /// that no longer owns the operation (it was handed out, and its next life may have begun).</summary>
    public bool WriteFinished(long epoch)
    {
        _writesInFlight[epoch % Window]--;
        return _held.Count > 0;
    }

    /// <summary>True when <paramref name="flush"/> may start now; otherwise it is held until <see cref="TryRelease"/>
    /// hands it back (or <see cref="TryRemove"/> takes it out).</summary>
    public bool TryPass(IoOperation flush)
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
    public bool TryRelease(out IoOperation flush)
    {
        if (_held.TryPeek(out var held) && ClearThrough(held.Epoch))
        {
            _held.Dequeue();
            flush = held.Flush;
            return true;
        }
        flush = null!;
        return false;
    }

    /// <summary>Takes a held flush out (it is being cancelled before it reached the kernel). False when the scope
    /// does not hold it.</summary>
    public bool TryRemove(IoOperation flush)
    {
        int count = _held.Count;
        bool found = false;
        for (int i = 0; i < count; i++)
        {
            var held = _held.Dequeue();
            if (!found && ReferenceEquals(held.Flush, flush))
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
