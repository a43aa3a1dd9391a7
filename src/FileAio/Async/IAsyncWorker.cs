namespace FileAio.Async;

/// <summary>
/// A thread that runs <see cref="AioFileOperation"/>s on one engine instance. Any thread may hand it work; it
/// completes each operation exactly once, never running user code itself.
/// </summary>
internal interface IAsyncWorker : IDisposable
{
    /// <summary>The engine the worker drives.</summary>
    AioEngineKind Engine { get; }

    /// <summary>Queues a prepared operation. Thread-safe and non-blocking.</summary>
    void Enqueue(AioFileOperation operation);

    /// <summary>Asks the kernel to cancel <paramref name="operation"/> if it is still in flight (from a
    /// CancellationToken callback, on any thread). The operation then completes, cancelled or not, as usual.</summary>
    void RequestCancel(AioFileOperation operation);
}
