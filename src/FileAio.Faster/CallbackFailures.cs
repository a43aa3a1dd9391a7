using System.Runtime.ExceptionServices;

namespace FileAio.Faster;

/// <summary>
/// Exceptions no error code can carry to FASTER: one thrown by FASTER's own callback (an I/O's or a segment removal's),
/// or a removal that failed in a way it could not report (its callback has no error argument). They are thrown again
/// on a thread-pool thread, where they are unhandled and end the process, as with FASTER's completion-port device.
/// FASTER's <c>ManagedLocalStorageDevice</c> loses them instead (they fault a Task nobody awaits), and FASTER goes on
/// with a page or a truncation half done.
/// </summary>
internal static class CallbackFailures
{
    /// <summary>Where such an exception goes. Tests replace it to see what would end the process; nothing else may.</summary>
    internal static Action<ExceptionDispatchInfo> Raise { get; set; } = RaiseOnThreadPool;

    private static void RaiseOnThreadPool(ExceptionDispatchInfo failure) =>
        ThreadPool.UnsafeQueueUserWorkItem(static f => f.Throw(), failure, preferLocal: false);
}
