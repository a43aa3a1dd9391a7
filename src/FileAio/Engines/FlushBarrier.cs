namespace FileAio.Engines;

/// <summary>
/// The flush barrier's bookkeeping that every kernel engine does the same way, under the engine's barrier lock: a
/// round's writes counted into their <see cref="FlushScope"/>s and its flushes asked whether they may go (Enter), the
/// same undone for operations the kernel did not take (Leave), finished writes counted out (Finish), and the flushes
/// they released taken one at a time (TryTakeReleased). How a released flush is started is the engine's own.
/// </summary>
internal static class FlushBarrier
{
    /// <summary>Counts <paramref name="batch"/>'s writes into their scopes and asks the scopes about its flushes:
    /// <paramref name="route"/>[i] becomes <paramref name="held"/> for a flush that must wait, 0 for the rest.</summary>
    public static void Enter(Lock barrierLock, ReadOnlySpan<IoOperation> batch, Span<int> route, int held)
    {
        route[..batch.Length].Clear();
        lock (barrierLock)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                IoOperation operation = batch[i];
                if (operation.Scope is not FlushScope scope || operation.Kind == OperationKind.Read)
                {
                    continue;
                }
                if (operation.Kind == OperationKind.Write)
                {
                    scope.WriteStarted(operation);
                }
                else if (!scope.TryPass(operation))
                {
                    route[i] = held;
                }
            }
        }
    }

    /// <summary>Undoes <see cref="Enter"/> for <paramref name="batch"/>[<paramref name="from"/>..] (not accepted).
    /// True when a flush may go now (one held only by the writes taken back).</summary>
    public static bool Leave(Lock barrierLock, ReadOnlySpan<IoOperation> batch, ReadOnlySpan<int> route, int from, int held)
    {
        bool mayRelease = false;
        lock (barrierLock)
        {
            for (int i = from; i < batch.Length; i++)
            {
                IoOperation operation = batch[i];
                if (operation.Scope is not FlushScope scope)
                {
                    continue;
                }
                if (operation.Kind == OperationKind.Write)
                {
                    mayRelease |= scope.WriteFinished(operation);
                }
                else if (route[i] == held)
                {
                    scope.TryRemove(operation);
                }
            }
        }
        return mayRelease;
    }

    /// <summary>Counts finished writes (each with a scope) out of their scopes. True when a flush may go now.</summary>
    public static bool Finish(Lock barrierLock, ReadOnlySpan<IoOperation> writes)
    {
        bool mayRelease = false;
        lock (barrierLock)
        {
            foreach (IoOperation write in writes)
            {
                mayRelease |= write.Scope!.WriteFinished(write);
            }
        }
        return mayRelease;
    }

    /// <summary>A flush that <paramref name="write"/>'s scope has released, if any: call until false, and start each.</summary>
    public static bool TryTakeReleased(Lock barrierLock, IoOperation write, out IoOperation flush)
    {
        flush = null!;
        if (write.Kind != OperationKind.Write || write.Scope is not FlushScope scope)
        {
            return false;
        }
        lock (barrierLock)
        {
            return scope.TryRelease(out flush);
        }
    }
}
