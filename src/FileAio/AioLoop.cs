using FileAio.Async;

namespace FileAio;

/// <summary>
/// One engine thread of an <see cref="AioEngineHost"/>, used as a place to run code: the thread-per-core mode. Code
/// started here with <see cref="RunAsync(Func{Task}, CancellationToken)"/> (or queued to <see cref="Scheduler"/>, or
/// posted to <see cref="SynchronizationContext"/>) runs on the thread that owns the engine, and the
/// <see cref="AioFile"/> operations it issues on files of this loop go straight to the engine — no cross-thread queue, no
/// wakeup — are submitted together once per turn of the loop (with io_uring, in the turn's one
/// <c>io_uring_enter</c>), and resume the awaiting code inline on this thread, in the order they complete.
/// </summary>
/// <remarks>
/// <para>Threading: every member may be called from any thread. Work posted from other threads is queued to the loop
/// and wakes it; work runs one piece at a time, in the order it was queued. A file is bound to a loop when it opens:
/// open it inside the loop's code (a file opened on a loop thread of its host is bound to that loop), else its
/// operations cross to the loop it was bound to and their continuations come back through this loop's queue.</para>
/// <para>Blocking here stalls the loop: while code on the loop waits (<c>Task.Wait</c>, <c>.Result</c>, a synchronous
/// read, a lock held elsewhere, a long computation), none of the loop's other code runs and none of its operations are
/// submitted or completed. Other loops are not affected. The meter's <c>fileaio.loop.lag</c> shows how long each loop
/// went without looking at its engine. Use <see cref="AioFile.DisposeAsync"/> here (<see cref="AioFile.Dispose"/>
/// would wait for the loop from the loop, and refuses), and never dispose the host from one of its loops.</para>
/// <para>Exceptions in work started with <see cref="RunAsync(Func{Task}, CancellationToken)"/> surface through the
/// returned task; an exception escaping a callback posted to <see cref="SynchronizationContext"/> (an <c>async void</c>
/// method's, say) is an unhandled exception, raised on a thread-pool thread, never on the loop thread.</para>
/// <para>When the host is disposed, the loop cancels its operations in flight, lets the code waiting for them run (its
/// operations are cancelled at once) until nothing is left queued, and ends; work posted after that runs on the thread
/// pool, so no task is left waiting for ever.</para>
/// </remarks>
public sealed class AioLoop
{
    private readonly EngineLoop _loop;

    internal AioLoop(AioEngineHost host, EngineLoop loop, int index)
    {
        Host = host;
        Index = index;
        _loop = loop;
        loop.PublicLoop = this;
    }

    /// <summary>The host whose engine thread this is.</summary>
    public AioEngineHost Host { get; }

    /// <summary>This loop's position in <see cref="AioEngineHost.Loops"/>.</summary>
    public int Index { get; }

    /// <summary>Runs tasks on this loop's thread, one at a time, in the order they are queued
    /// (<see cref="TaskScheduler.MaximumConcurrencyLevel"/> is 1). <see cref="TaskScheduler.Current"/> inside work
    /// started by <see cref="RunAsync(Func{Task}, CancellationToken)"/>.</summary>
    public TaskScheduler Scheduler => _loop.Scheduler;

    /// <summary>Posts to this loop's thread. <see cref="System.Threading.SynchronizationContext.Current"/> on the loop
    /// thread, so an <c>await</c> in code running there resumes there. <c>Send</c> from another thread blocks the caller
    /// until the callback has run on the loop.</summary>
    public SynchronizationContext SynchronizationContext => _loop.Context;

    /// <summary>Whether the calling thread is this loop's thread.</summary>
    public bool IsOnLoopThread => _loop.IsLoopThread;

    /// <summary>The loop whose thread is calling, or null when the caller is on no loop.</summary>
    public static AioLoop? Current => EngineLoop.Current?.PublicLoop as AioLoop;

    /// <summary>The engine thread's loop, for the host.</summary>
    internal EngineLoop EngineLoop => _loop;

    /// <summary>
    /// Runs <paramref name="work"/> on this loop's thread and returns a task that completes as the work's task does:
    /// with its result, its exception or its cancellation. Every continuation inside the work (each <c>await</c>, unless
    /// it says <c>ConfigureAwait(false)</c> on something that completes elsewhere) comes back to this loop.
    /// </summary>
    /// <param name="work">The code to run. It starts at the loop's next turn, after the work queued before it.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started yet (the task is then cancelled and the
    /// work never runs). Once it runs, pass the token to the work's own calls to cancel them.</param>
    /// <exception cref="ObjectDisposedException">The host has been disposed.</exception>
    public Task RunAsync(Func<Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Host.ThrowIfDisposed();
        return Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();
    }

    /// <summary>As <see cref="RunAsync(Func{Task}, CancellationToken)"/>, for work with a result.</summary>
    /// <exception cref="ObjectDisposedException">The host has been disposed.</exception>
    public Task<TResult> RunAsync<TResult>(Func<Task<TResult>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Host.ThrowIfDisposed();
        return Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();
    }

    /// <summary>"FileAio engine N": the thread's name.</summary>
    public override string ToString() => _loop.Name;
}
