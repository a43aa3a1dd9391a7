using System.Diagnostics;

namespace FileAio.Async;

/// <summary>
/// An intrusive doubly-linked list of <see cref="AsyncOperation"/>s, through their <see cref="AsyncOperation.Previous"/>
/// and <see cref="AsyncOperation.Next"/> links: adding, taking the first and removing any one cost O(1) and allocate
/// nothing. An operation is in at most one list at a time. Not thread-safe: an engine loop owns its lists.
/// </summary>
internal sealed class OperationList
{
    private AsyncOperation? _first;
    private AsyncOperation? _last;

    public int Count { get; private set; }

    public bool IsEmpty => _first is null;

    public AsyncOperation? First => _first;

    public void AddLast(AsyncOperation operation)
    {
        Debug.Assert(operation.Previous is null && operation.Next is null && !ReferenceEquals(_first, operation));
        operation.Previous = _last;
        if (_last is null)
        {
            _first = operation;
        }
        else
        {
            _last.Next = operation;
        }
        _last = operation;
        Count++;
    }

    public void AddFirst(AsyncOperation operation)
    {
        Debug.Assert(operation.Previous is null && operation.Next is null && !ReferenceEquals(_first, operation));
        operation.Next = _first;
        if (_first is null)
        {
            _last = operation;
        }
        else
        {
            _first.Previous = operation;
        }
        _first = operation;
        Count++;
    }

    public AsyncOperation? TakeFirst()
    {
        AsyncOperation? first = _first;
        if (first is not null)
        {
            Remove(first);
        }
        return first;
    }

    public AsyncOperation? TakeLast()
    {
        AsyncOperation? last = _last;
        if (last is not null)
        {
            Remove(last);
        }
        return last;
    }

    public void Remove(AsyncOperation operation)
    {
        if (operation.Previous is null)
        {
            Debug.Assert(ReferenceEquals(_first, operation), "The operation is in this list.");
            _first = operation.Next;
        }
        else
        {
            operation.Previous.Next = operation.Next;
        }
        if (operation.Next is null)
        {
            _last = operation.Previous;
        }
        else
        {
            operation.Next.Previous = operation.Previous;
        }
        operation.Previous = null;
        operation.Next = null;
        Count--;
    }
}
