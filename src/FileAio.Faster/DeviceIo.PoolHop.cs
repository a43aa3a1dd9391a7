using System.Runtime.CompilerServices;

namespace FileAio.Faster;

internal sealed partial class DeviceIo
{
    /// <summary>
    /// An await that always resumes on the thread pool, queuing the <see cref="DeviceIo"/> itself as the work item.
    /// <c>Task.Yield()</c> would resume on a caller's <see cref="SynchronizationContext"/> when it has one, and
    /// <see cref="ThreadPool.UnsafeQueueUserWorkItem{TState}(Action{TState}, TState, bool)"/> would allocate a wrapper;
    /// the continuation the runtime passes here is the loop box's cached delegate, so the hop allocates nothing.
    /// </summary>
    private readonly struct PoolHop(DeviceIo io) : ICriticalNotifyCompletion
    {
        public PoolHop GetAwaiter() => this;

        public bool IsCompleted => false;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation); // the loop flows no context

        public void UnsafeOnCompleted(Action continuation)
        {
            io._hopContinuation = continuation;
            ThreadPool.UnsafeQueueUserWorkItem(io, preferLocal: false);
        }
    }
}
