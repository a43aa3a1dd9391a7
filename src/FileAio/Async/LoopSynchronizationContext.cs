using System.Runtime.ExceptionServices;

namespace FileAio.Async;

/// <summary>
/// The <see cref="SynchronizationContext"/> of one engine loop, current on its thread
/// (<see cref="AioLoop.SynchronizationContext"/>): an <c>await</c> on the loop comes back to the loop, and a FileAio
/// operation whose continuation was captured here completes inline when it completes on this loop (the runtime's
/// value-task source runs a continuation inline when its captured context is the current one).
/// </summary>
internal sealed class LoopSynchronizationContext(EngineLoop loop) : SynchronizationContext
{
    public EngineLoop Loop => loop;

    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        loop.Post(new LoopWorkItem(d, state));
    }

    /// <summary>Runs <paramref name="d"/> on the loop and waits for it: inline when called on the loop, or from work
    /// run late on the pool in its stead (waiting for the loop from the loop could never end), else by posting it and blocking the caller until it has run. Its
    /// exception is rethrown to the caller.</summary>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (loop.IsWorkThread)
        {
            d(state);
            return;
        }
        var call = new SentCall(d, state);
        Post(static s => ((SentCall)s!).Run(), call);
        call.Done.Wait();
        call.Done.Dispose();
        call.Failure?.Throw();
    }

    /// <summary>The context carries no per-copy state: every copy is this one.</summary>
    public override SynchronizationContext CreateCopy() => this;

    private sealed class SentCall(SendOrPostCallback callback, object? state)
    {
        public ManualResetEventSlim Done { get; } = new();

        public ExceptionDispatchInfo? Failure { get; private set; }

        public void Run()
        {
            try
            {
                callback(state);
            }
            catch (Exception e)
            {
                Failure = ExceptionDispatchInfo.Capture(e); // the sender's, not an unhandled one
            }
            finally
            {
                Done.Set();
            }
        }
    }
}
