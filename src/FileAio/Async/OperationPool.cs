using System.Collections.Concurrent;

namespace FileAio.Async;

/// <summary>
/// Reusable <see cref="AioFileOperation"/>s, so that an operation in steady state allocates nothing. A
/// <see cref="ConcurrentQueue{T}"/> keeps reusing its segment while its length stays below the segment size, so
/// renting and returning do not allocate either.
/// </summary>
internal sealed class OperationPool
{
    /// <summary>Operations kept for reuse; more are freed to the GC. Enough for thousands in flight.</summary>
    private const int MaxRetained = 4096;

    private readonly ConcurrentQueue<AioFileOperation> _free = new();

    public AioFileOperation Rent()
    {
        if (_free.TryDequeue(out AioFileOperation? operation))
        {
            operation.AssertIdle();
            return operation;
        }
        var created = new AioFileOperation();
        created.AttachPool(this);
        return created;
    }

    public void Return(AioFileOperation operation)
    {
        if (_free.Count < MaxRetained)
        {
            _free.Enqueue(operation);
        }
    }
}
