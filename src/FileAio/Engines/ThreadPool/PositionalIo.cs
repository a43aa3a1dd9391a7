using System.Runtime.InteropServices;
using FileAio.Interop;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines.ThreadPool;

/// <summary>
/// Runs one prepared operation synchronously with positional system calls (<c>pread</c>/<c>pwrite</c>,
/// <c>preadv</c>/<c>pwritev</c>, <c>fsync</c>/<c>fdatasync</c>; <see cref="RandomAccess"/> on Windows) and returns an
/// <see cref="OperationResult"/>. One call per operation: a short transfer is returned as it is (SPEC §1).
/// </summary>
internal static unsafe class PositionalIo
{
    public static long Execute(IoOperation operation)
    {
        SafeFileHandle file = operation.File!;
        if (OperatingSystem.IsWindows())
        {
            return ExecuteWindows(operation, file);
        }
        // The operation's pins hold a reference on the handle, so the descriptor stays open even if the caller
        // disposes the handle meanwhile (its close is deferred until the operation completes).
        int fd = (int)file.DangerousGetHandle();
        return operation.Kind switch
        {
            OperationKind.Read or OperationKind.Write => Transfer(operation, fd),
            OperationKind.Flush => Sync(operation, fd),
            _ => OperationResult.FromErrno(Errno.EINVAL),
        };
    }

    private static long Transfer(IoOperation operation, int file)
    {
        bool read = operation.Kind == OperationKind.Read;
        int segments = operation.SegmentCount;
        if ((operation.Traits & FileTraits.Pollable) != 0)
        {
            return Stream(operation, file, read);
        }
        if (segments == 1)
        {
            byte* buffer = operation.SegmentPointer(0);
            nuint length = (nuint)operation.SegmentLength(0);
            while (true)
            {
                nint result = read
                    ? Libc.PRead(file, buffer, length, operation.Offset)
                    : Libc.PWrite(file, buffer, length, operation.Offset);
                if (!ShouldRetry(result, out long outcome))
                {
                    return outcome;
                }
            }
        }

        IoVec* iov = operation.Iovecs; // filled when the operation was pinned
        while (true)
        {
            nint result = read
                ? Libc.PReadV(file, iov, segments, operation.Offset)
                : Libc.PWriteV(file, iov, segments, operation.Offset);
            if (!ShouldRetry(result, out long outcome))
            {
                return outcome;
            }
        }
    }

    /// <summary>
    /// A FIFO, socket or character device has no file position: the offset means nothing there (as for io_uring), and
    /// a positional call would fail with ESPIPE. The worker calls this once <c>poll</c> said the file is ready, but
    /// readiness is only a snapshot (another reader may take the bytes first), so the transfer must not block: it
    /// returns -EAGAIN instead, and the worker waits again, cancellably. Sockets honour RWF_NOWAIT; a FIFO, which
    /// refuses it, is reached through a second, non-blocking description of the same pipe. Other character devices
    /// fall back to a blocking call.
    /// </summary>
    private static long Stream(IoOperation operation, int file, bool read)
    {
        IoVec single = default;
        IoVec* iov;
        if (operation.IsVectored)
        {
            iov = operation.Iovecs;
        }
        else
        {
            single.Base = operation.SegmentPointer(0);
            single.Length = (nuint)operation.SegmentLength(0);
            iov = &single;
        }
        int count = operation.SegmentCount;
        long outcome;
        do
        {
            nint result = read
                ? Libc.PReadV2(file, iov, count, -1, LinuxConstants.RWF_NOWAIT)
                : Libc.PWriteV2(file, iov, count, -1, LinuxConstants.RWF_NOWAIT);
            if (!ShouldRetry(result, out outcome) && outcome != -Errno.EOPNOTSUPP)
            {
                return outcome;
            }
        }
        while (outcome == -Errno.EINTR);

        if ((operation.Traits & FileTraits.Fifo) != 0)
        {
            int nonBlocking = Libc.Open($"/proc/self/fd/{file}",
                (read ? LinuxConstants.O_RDONLY : LinuxConstants.O_WRONLY) | LinuxConstants.O_NONBLOCK | LinuxConstants.O_CLOEXEC);
            if (nonBlocking >= 0)
            {
                try
                {
                    return Repeat(read, nonBlocking, iov, count);
                }
                finally
                {
                    Syscalls.Close(nonBlocking);
                }
            }
        }
        return Repeat(read, file, iov, count);
    }

    private static long Repeat(bool read, int file, IoVec* iov, int count)
    {
        while (true)
        {
            nint result = read ? Libc.ReadV(file, iov, count) : Libc.WriteV(file, iov, count);
            if (!ShouldRetry(result, out long outcome))
            {
                return outcome;
            }
        }
    }

    /// <summary>Turns a system call's return into an outcome; true when it was interrupted (EINTR) and must be repeated.</summary>
    private static bool ShouldRetry(nint result, out long outcome)
    {
        if (result >= 0)
        {
            outcome = result;
            return false;
        }
        int errno = Marshal.GetLastPInvokeError();
        outcome = OperationResult.FromErrno(errno);
        return errno == Errno.EINTR;
    }

    private static long Sync(IoOperation operation, int file)
    {
        while (true)
        {
            int result = operation.DataOnly ? Libc.FDataSync(file) : Libc.FSync(file);
            if (!ShouldRetry(result, out long outcome))
            {
                return outcome;
            }
        }
    }

    private static long ExecuteWindows(IoOperation operation, SafeFileHandle file)
    {
        try
        {
            switch (operation.Kind)
            {
                case OperationKind.Read:
                {
                    long total = 0;
                    for (int i = 0; i < operation.SegmentCount; i++)
                    {
                        Memory<byte> segment = operation.Segment(i);
                        int n = RandomAccess.Read(file, segment.Span, operation.Offset + total);
                        total += n;
                        if (n < segment.Length)
                        {
                            break; // short read: report what was transferred
                        }
                    }
                    return total;
                }
                case OperationKind.Write:
                {
                    long total = 0;
                    for (int i = 0; i < operation.SegmentCount; i++)
                    {
                        Memory<byte> segment = operation.Segment(i);
                        RandomAccess.Write(file, segment.Span, operation.Offset + total);
                        total += segment.Length;
                    }
                    return total;
                }
                case OperationKind.Flush:
                    return WindowsFlush.FlushFileBuffers(file) ? 0 : OperationResult.FromErrno(Marshal.GetLastPInvokeError());
                default:
                    return OperationResult.FromErrno(Errno.EINVAL);
            }
        }
        catch (IOException e)
        {
            return OperationResult.FromErrno(e.HResult & 0xFFFF);
        }
        catch (UnauthorizedAccessException)
        {
            return OperationResult.FromErrno(5); // ERROR_ACCESS_DENIED
        }
        catch (NotSupportedException)
        {
            return OperationResult.FromErrno(1); // ERROR_INVALID_FUNCTION: the handle cannot seek (pipe, console)
        }
        catch (Exception e) when (e is ArgumentException or ObjectDisposedException)
        {
            return OperationResult.FromErrno(6); // ERROR_INVALID_HANDLE (RandomAccess refuses a disposed handle)
        }
    }
}
