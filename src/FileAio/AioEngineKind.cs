namespace FileAio;

/// <summary>The host mechanisms that can carry a context's operations.</summary>
public enum AioEngineKind
{
    /// <summary>The best engine that works on this machine, found by trying each in turn (io_uring, Linux AIO,
    /// POSIX AIO, thread pool); <see cref="AioContext.Engine"/> tells which one was picked.</summary>
    Auto = 0,

    /// <summary>Linux io_uring, driven from managed code through raw system calls.</summary>
    IoUring = 1,

    /// <summary>Linux native AIO (<c>io_setup</c>/<c>io_submit</c>/<c>io_getevents</c>); asynchronous only with O_DIRECT.</summary>
    LinuxAio = 2,

    /// <summary>POSIX AIO (<c>lio_listio</c>, <c>aio_return</c>, <c>aio_cancel</c>); on FreeBSD completion comes through kqueue.</summary>
    PosixAio = 3,

    /// <summary>Positional reads and writes on a few dedicated worker threads; works on every OS .NET runs on.</summary>
    ThreadPool = 4,
}
