namespace FileAio.Faster;

internal sealed partial class DeviceIo
{
    /// <summary>
    /// Keeps the loop on the default <see cref="ExecutionContext"/> (remark 5). Every await of an async method stores the
    /// context current at that moment in the method's box, and the box runs its next step under it. The loop awaits on
    /// a caller's thread (inside <see cref="Start"/>, up to the first await that does not complete at once) and right after
    /// FASTER's callback; an await made under a caller's context, or under one a callback changed, would hand its
    /// AsyncLocals to every later I/O this loop serves, for any caller.
    /// </summary>
    /// <remarks>Restoring a captured context allocates nothing. <see cref="ExecutionContext.SuppressFlow"/> would do as
    /// well for the capture, but it clones a context that holds values, and undoing it clones again: two objects per I/O
    /// for a caller with AsyncLocals.</remarks>
    private readonly ref struct DefaultContext
    {
        /// <summary>The runtime's default context, as a thread that has none captures it.</summary>
        private static readonly ExecutionContext s_default = CaptureOnNewThread();

        private readonly ExecutionContext? _caller;

        private DefaultContext(ExecutionContext caller) => _caller = caller;

        /// <summary>Switches this thread to the default context until <see cref="Dispose"/>, which puts the caller's back.</summary>
        public static DefaultContext Enter()
        {
            // Null when the caller suppressed flow: an await then captures nothing, which is as good as the default.
            ExecutionContext? caller = ExecutionContext.Capture();
            if (caller is null || caller == s_default)
            {
                return default;
            }
            ExecutionContext.Restore(s_default);
            return new DefaultContext(caller);
        }

        /// <summary>Drops whatever a callback set (the loop's own step ends under the context it began with).</summary>
        public static void Reinstate()
        {
            ExecutionContext? current = ExecutionContext.Capture();
            if (current is not null && current != s_default)
            {
                ExecutionContext.Restore(s_default);
            }
        }

        public void Dispose()
        {
            if (_caller is not null)
            {
                ExecutionContext.Restore(_caller);
            }
        }

        private static ExecutionContext CaptureOnNewThread()
        {
            ExecutionContext? captured = null;
            var thread = new Thread(() => captured = ExecutionContext.Capture()) { IsBackground = true, Name = "FileAio.Faster context probe" };
            thread.UnsafeStart(); // UnsafeStart: the new thread gets no context from this one
            thread.Join();
            return captured!;
        }
    }
}
