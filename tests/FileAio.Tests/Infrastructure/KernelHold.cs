namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Operations that really stay inside the kernel until <see cref="Release"/>. Each engine gets the kind it can be
/// held by: a copy that page-faults on userfaultfd memory for positional system calls (the thread-pool engine), a
/// FIFO with nothing to read or no room to write for io_uring (whose first, inline attempt would otherwise fault in
/// the submitting thread). Reads and writes each target their own file.
/// </summary>
public abstract class KernelHold : IDisposable
{
    /// <summary>Whether the kernel can cancel an operation it is already holding (a FIFO read waiting for data can be;
    /// a copy stuck in a page fault cannot).</summary>
    public abstract bool StartedOperationsCanBeCancelled { get; }

    /// <summary>Prepares the <paramref name="index"/>-th held read (at most 4096 bytes).</summary>
    public abstract void PrepareRead(AioRequest request, int index, object? userState = null);

    /// <summary>Prepares the <paramref name="index"/>-th held write (at most 4096 bytes).</summary>
    public abstract void PrepareWrite(AioRequest request, int index, object? userState = null);

    /// <summary>The buffer the <paramref name="index"/>-th held read fills (to check it was not touched).</summary>
    public abstract Memory<byte> ReadBuffer(int index);

    /// <summary>Waits until the kernel is inside at least one held operation.</summary>
    public abstract bool WaitUntilHeld(TimeSpan timeout);

    /// <summary>Lets every held operation finish.</summary>
    public abstract void Release();

    public abstract void Dispose();
}
