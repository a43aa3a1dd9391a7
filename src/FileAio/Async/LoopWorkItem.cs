using System.Runtime.ExceptionServices;

namespace FileAio.Async;

/// <summary>
/// One piece of user code queued to an engine loop (the <see cref="AioLoop"/> mode): a callback posted to the loop's
/// <see cref="SynchronizationContext"/>, or, with no callback, a <see cref="Task"/> queued to its
/// <see cref="TaskScheduler"/>. A struct, so that queueing it in a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>
/// allocates nothing.
/// </summary>
internal readonly record struct LoopWorkItem(SendOrPostCallback? Callback, object? State)
{
    /// <summary>Runs the work on the calling thread. A task keeps its own exceptions (they surface through it); an
    /// exception escaping a posted callback is an unhandled exception, as it is anywhere in .NET (an <c>async void</c>
    /// method's, say), but it is raised on a thread-pool thread, never on the loop thread, which goes on serving its
    /// other work and its operations in flight.</summary>
    public void Run(LoopScheduler scheduler)
    {
        if (Callback is null)
        {
            scheduler.Execute((Task)State!);
            return;
        }
        try
        {
            Callback(State);
        }
        catch (Exception e)
        {
            RaiseUnhandled(e);
        }
    }

    /// <summary>Rethrows <paramref name="exception"/> on a thread-pool thread, with its original stack: the process's
    /// unhandled-exception rule applies there, and the loop thread survives it.</summary>
    public static void RaiseUnhandled(Exception exception) =>
        ThreadPool.UnsafeQueueUserWorkItem(static edi => edi.Throw(), ExceptionDispatchInfo.Capture(exception), preferLocal: false);
}
