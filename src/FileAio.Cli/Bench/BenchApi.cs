namespace FileAio.Cli.Bench;

/// <summary>How a bench case drives the file.</summary>
internal enum BenchApi
{
    /// <summary>The raw contract: one thread per job keeps <c>iodepth</c> <see cref="AioRequest"/>s in flight with
    /// batched <see cref="AioContext.Submit"/> and <see cref="AioContext.Wait"/> (fio's io_uring loop).</summary>
    Context,

    /// <summary>FileAio's async file API: <c>iodepth</c> concurrent async loops awaiting <c>AioFile</c> reads and writes.</summary>
    File,

    /// <summary>The thread-per-core mode: one engine thread per job (<see cref="AioLoop"/>), running that job's
    /// <c>iodepth</c> async loops itself, each awaiting <c>AioFile</c> reads and writes of a file bound to that loop.</summary>
    Loop,
    /// <summary>As <see cref="File"/>, with <see cref="AioFileOptions.InlineCompletions"/>: each loop resumes inline on
    /// the engine thread that completed its operation, and issues its next one from there.</summary>
    FileInline,

    /// <summary>The .NET baseline: <c>iodepth</c> concurrent async loops awaiting <see cref="RandomAccess.ReadAsync(Microsoft.Win32.SafeHandles.SafeFileHandle, Memory{byte}, long, CancellationToken)"/>
    /// / <c>WriteAsync</c> (a blocking <c>pread</c> on a thread-pool thread each).</summary>
    RandomAccess,

    /// <summary>Blocking <see cref="System.IO.RandomAccess.Read(Microsoft.Win32.SafeHandles.SafeFileHandle, Span{byte}, long)"/>
    /// / <c>Write</c> on one thread per job: queue depth 1.</summary>
    Sync,

    /// <summary>The .NET baseline of <see cref="ReadWriteMode.Wal"/>: one shared <see cref="System.IO.FileStream"/>,
    /// <c>Write</c> under a lock, <c>Flush(true)</c> outside it, on one thread per appender.</summary>
    FileStream,
}
