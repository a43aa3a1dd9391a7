using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>While alive, catches what the device would throw unhandled on the thread pool (ending the process), so a
/// test can see it. Tests run one at a time (AssemblyInfo.cs), so no other test's failures land here.</summary>
internal sealed class RaisedFailures : IDisposable
{
    private readonly Action<ExceptionDispatchInfo> _before = CallbackFailures.Raise;
    private readonly BlockingCollection<Exception> _raised = [];

    public RaisedFailures() => CallbackFailures.Raise = failure => _raised.Add(failure.SourceException);

    /// <summary>The next exception raised, waiting for it up to 30 s; null if none came.</summary>
    public Exception? Next() => _raised.TryTake(out Exception? e, TimeSpan.FromSeconds(30)) ? e : null;

    public void Dispose()
    {
        CallbackFailures.Raise = _before;
        _raised.Dispose();
    }
}
