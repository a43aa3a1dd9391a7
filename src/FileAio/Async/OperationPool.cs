using System.Collections.Concurrent;

namespace FileAio.Async;

/// <summary>
/// Reusable <see cref="AsyncOperation"/>s, so that an operation in steady state allocates nothing. A
/// <see cref="ConcurrentQueue{T}"/> keeps reusing its segment while its length stays below the segment size, so
/// renting and returning do not allocate either. An operation comes back only after its one consumer has read its
/// result (<see cref="AsyncOperation.GetResult"/>), never while anyone may still use it.
/// </summary>
internal sealed class OperationPool
{
    /// <summary>Operations kept for reuse; more are freed to the GC. Enough for thousands in flight.</summary>
    private const int MaxRetained = 4096;

    private readonly ConcurrentQueue<AsyncOperation> _free = new();

    public AsyncOperation Rent()
    {
        if (_free.TryDequeue(out AsyncOperation? operation))
        {
            operation.AssertIdle();
            return operation;
        }
        return new AsyncOperation(this);
    }

    public void Return(AsyncOperation operation)
    {
        if (_free.Count < MaxRetained)
        {
            _free.Enqueue(operation);
        }
    }
}
