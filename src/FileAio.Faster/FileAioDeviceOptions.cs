using FileAio;

namespace FileAio.Faster;

/// <summary>How a <see cref="FileAioDevice"/> opens and drives its segment files.</summary>
public sealed class FileAioDeviceOptions
{
    /// <summary>FASTER's own devices report pending I/O over 120 as throttled (<c>LocalStorageDevice</c>); the same
    /// default keeps FasterKV's disk-read pacing as it is with them.</summary>
    public const int DefaultInFlightLimit = 120;

    /// <summary>The engine serving the segment files. <see cref="AioEngineKind.Auto"/> (the default) is io_uring where it
    /// works, else the thread-pool engine (see FileAio's docs/async.md).</summary>
    public AioEngineKind Engine { get; init; } = AioEngineKind.Auto;

    /// <summary>Bypass the page cache (O_DIRECT). Default: on. FASTER already reads and writes whole sectors from
    /// sector-aligned buffers, which is what direct I/O asks; the device reports the file system's direct-I/O alignment
    /// as its <c>SectorSize</c>. Turn it off to let the page cache serve reads of a store that fits in memory.</summary>
    public bool Direct { get; init; } = true;

    /// <summary>Write through to stable storage (O_SYNC): a write's callback comes once its data is durable. Default:
    /// on, as with <c>ManagedLocalStorageDevice</c> (FASTER's device on Linux, which opens its files write-through):
    /// FasterLog and FasterKV treat a completed write as persisted when they record a commit or a checkpoint, so
    /// without it a power failure after a commit can lose log data the commit says is there. Turn it off only where
    /// the data may be rebuilt, or the disk has no volatile write cache.</summary>
    public bool WriteThrough { get; init; } = true;

    /// <summary>Bytes to reserve (<c>fallocate</c>) when a segment file is created. 0 (the default): the whole segment
    /// when the device's <c>preallocateFile</c> is true, nothing otherwise. A positive value reserves that much for every
    /// new segment, whatever <c>preallocateFile</c> says.</summary>
    public long PreallocationSize { get; init; }

    /// <summary>The I/Os not yet completed by FileAio above which <c>Throttle()</c> says true (FASTER then holds back
    /// further disk reads and spins <c>TryComplete()</c>); sets the device's <c>ThrottleLimit</c>. An I/O whose callback
    /// waits for a thread-pool thread is no longer counted. I/O issued above it is still accepted at once:
    /// FASTER issues writes from completion callbacks and blocks threads on commits, so a device that made a caller wait
    /// for room could deadlock it.</summary>
    public int InFlightLimit { get; init; } = DefaultInFlightLimit;

    /// <summary>Run the callbacks of FASTER's record reads on the FileAio engine thread that completed the read, instead
    /// of after a hop to the thread pool. Default: on. Only callbacks known to be short are run there: FasterKV's
    /// pending reads of a record (keys and values without references) and FasterLog's random reads, whose callbacks
    /// only hand the buffer over (or issue the next read of the same record). Writes, page reads, failed reads, reads
    /// completed inside <c>ReadAsync</c> and every other callback still run on the thread pool. The saving is one thread
    /// wakeup per read; turn it off to put every callback on the pool.</summary>
    /// <remarks>A store with a custom <c>IFasterEqualityComparer</c> has it called there (FASTER compares the key read
    /// against the one asked for in that callback): it must not block.</remarks>
    public bool InlineReadCallbacks { get; init; } = true;

    internal static FileAioDeviceOptions Default { get; } = new();
}
