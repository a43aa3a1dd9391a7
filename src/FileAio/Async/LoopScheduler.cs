namespace FileAio.Async;

/// <summary>
/// The <see cref="TaskScheduler"/> of one engine loop: tasks queued to it run on the loop's thread, one at a time, in
/// the order they were queued (<see cref="AioLoop.Scheduler"/>).
/// </summary>
/// <remarks>
/// A task may run inline (<c>Task.Wait</c> or <c>RunSynchronously</c> on the loop thread) only when it is asked on the
/// loop thread itself (or, once the loop has ended, on the pool thread running its late work one item at a time):
/// anywhere else it would run beside the loop's work, which this scheduler promises not to do.
/// </remarks>
internal sealed class LoopScheduler(EngineLoop loop) : TaskScheduler
{
    /// <summary>One thread runs everything queued here.</summary>
    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => loop.Post(new LoopWorkItem(null, task));

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        loop.IsWorkThread && TryExecuteTask(task);

    /// <summary>For debuggers only: the queue is lock-free and may change while it is looked at.</summary>
    protected override IEnumerable<Task>? GetScheduledTasks() => loop.QueuedTasks();

    /// <summary>Runs a task the loop took from its queue (false when it ran inline meanwhile, or was cancelled).</summary>
    public void Execute(Task task) => TryExecuteTask(task);
}
