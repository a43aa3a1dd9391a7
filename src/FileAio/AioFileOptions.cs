namespace FileAio;

/// <summary>How <see cref="AioFile.Open"/> opens a file.</summary>
public sealed class AioFileOptions
{
    /// <summary>Bypass the page cache (O_DIRECT on Linux). Transfers must then follow <see cref="AioFile.GetAlignment"/>;
    /// a transfer that does not is refused with an <see cref="ArgumentException"/> naming the rule.</summary>
    public bool Direct { get; init; }

    /// <summary>The engine, used when <see cref="Host"/> is not set: the process-wide host of that engine serves the
    /// file. <see cref="AioEngineKind.Auto"/> (the default) is io_uring where it works, else the thread-pool engine. A
    /// file on FUSE (or whose file system does not answer <c>fstatfs</c>) gets the thread-pool engine under Auto, also
    /// when <see cref="Host"/> is <see cref="AioEngineHost.Shared"/>: io_uring misreports a read that the FUSE file
    /// system fails partway (docs/engines.md, IoUring, "FUSE").</summary>
    public AioEngineKind Engine { get; init; } = AioEngineKind.Auto;

    /// <summary>A host of your own to run the file's operations (it must outlive the file). It serves every file given
    /// to it, FUSE files included: for those, a host of the thread-pool engine is the safe one.</summary>
    public AioEngineHost? Host { get; init; }

    /// <summary>How other opens may share the file, as for <see cref="File.OpenHandle"/>. Default: read.</summary>
    public FileShare Share { get; init; } = FileShare.Read;

    /// <summary>
    /// Serve a read whose data is already in the page cache on the calling thread (<c>preadv2</c> with
    /// <c>RWF_NOWAIT</c>, which never waits for the device), completing it synchronously instead of sending it to the
    /// engine. Default: on. Ignored for <see cref="Direct"/> files and off Linux. The engine still serves every read
    /// the cache cannot, and the path turns itself down on a file whose reads keep missing the cache (see
    /// docs/async.md). Turn it off to send every read through the engine.
    /// </summary>
    public bool InlineCachedReads { get; init; } = true;

    /// <summary>
    /// Resume the code awaiting this file's operations inline on the engine thread that completes them, in completion
    /// order, instead of queueing it to the thread pool (as <c>PipeScheduler.Inline</c> does for pipelines): no
    /// thread-pool hop and no wakeup per operation, and an operation the continuation starts goes straight into that
    /// thread's engine. Default: off. For callers that do only short work after each <c>await</c>.
    /// </summary>
    /// <remarks>
    /// <para><b>Blocking there stalls the engine thread.</b> While a continuation runs — and until it reaches an
    /// <c>await</c> that does not complete at once — that engine thread submits and completes nothing: every file bound
    /// to it waits (with <see cref="AioEngineHost.Shared"/>, files of other code too). Do not block (<c>Task.Wait</c>,
    /// <c>.Result</c>, a synchronous read, a contended lock, <see cref="Thread.Sleep(int)"/>) or compute for long after
    /// such an <c>await</c>; hop off with <c>await Task.Yield()</c> or <c>Task.Run</c> first. The meter's
    /// <c>fileaio.loop.lag</c> shows the stall.</para>
    /// <para>Where the continuation runs: inline only when the <c>await</c> has no context to return to — no
    /// <see cref="SynchronizationContext"/> (other than the base class) and the default <see cref="TaskScheduler"/>, or
    /// <c>ConfigureAwait(false)</c>. An <c>await</c> that captured a context still goes back to it (posted, as without
    /// this option). The continuation runs with no <see cref="SynchronizationContext"/> current, as on a pool thread, so
    /// its later awaits of other things resume on the thread pool; its later awaits of operations of files with this
    /// option resume inline again, on the engine thread of each file. A result already complete when awaited (a read the
    /// page cache served, <see cref="InlineCachedReads"/>) does not suspend, as always. Code running on an
    /// <see cref="AioLoop"/> is unaffected: its operations resume on its loop either way.</para>
    /// <para>On the engine thread: <see cref="AioFile.Dispose"/> of any file with operations in flight throws
    /// <see cref="InvalidOperationException"/> (it would wait for an engine thread from an engine thread; use
    /// <see cref="AioFile.DisposeAsync"/>); a read started there skips the page-cache fast path (the engine serves it),
    /// so a flow whose reads all hit the cache still lets the thread go once per read; an exception escaping a
    /// continuation (any awaiter but an async method, which keeps its own) is raised on a thread-pool thread as an
    /// unhandled exception, and the engine thread goes on with its other completions; a <c>fileaio.latency</c>
    /// listener runs there.</para>
    /// </remarks>
    public bool InlineCompletions { get; init; }

    /// <summary>
    /// Write through to stable storage: every write completes only once its data and the metadata needed to read it
    /// back are durable (O_SYNC on Unix, as <see cref="FileOptions.WriteThrough"/>), so no separate flush is needed
    /// for it. Default: off. Costs a device cache flush per write on disks with a volatile cache; for many small
    /// writes, <see cref="AioFile.FlushAsync"/> after a group of them is usually cheaper. Without <see cref="Direct"/>,
    /// io_uring runs the buffered writes of one file one after another on one kernel worker (it orders them by inode), so
    /// with write-through each waits for the disk in turn: 4 concurrent 4 MiB writes ran 2.4–2.6× slower than from 4
    /// threads here. Concurrent durable buffered writes to one file are faster as writes followed by
    /// <see cref="AioFile.FlushAsync"/> (fdatasync is not serialised, and concurrent ones share journal commits).
    /// </summary>
    public bool WriteThrough { get; init; }

    /// <summary>Space to reserve when the file is created or truncated (0: none), as for <see cref="File.OpenHandle"/>.</summary>
    public long PreallocationSize { get; init; }
}
