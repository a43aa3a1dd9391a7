namespace FileAio.Platform;

/// <summary>What an engine needs to know about an operation's file to serve it right, learned once per handle
/// (<see cref="FileFacts"/>) and carried by every operation on it.</summary>
[Flags]
internal enum FileTraits : byte
{
    None = 0,

    /// <summary>Open with O_DIRECT: transfers follow the file's <see cref="DirectIoAlignment"/>.</summary>
    Direct = 1,

    /// <summary>On FUSE (or on a file system that does not answer <c>fstatfs</c>): io_uring must not read it
    /// (<see cref="FuseFiles"/>).</summary>
    OnFuse = 2,

    /// <summary>A FIFO, socket or character device: a transfer on it can wait for ever (an empty FIFO), so an engine
    /// that blocks a thread on it must wait in a way it can interrupt.</summary>
    Pollable = 4,

    /// <summary>A FIFO (also <see cref="Pollable"/>): a worker can reach it without blocking through a second,
    /// non-blocking description of the same pipe.</summary>
    Fifo = 8,
}
