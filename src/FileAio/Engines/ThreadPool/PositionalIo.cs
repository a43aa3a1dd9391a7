using System.Runtime.InteropServices;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines.ThreadPool;

/// <summary>
/// Runs one prepared operation synchronously with positional system calls (<c>pread</c>/<c>pwrite</c>,
/// <c>preadv</c>/<c>pwritev</c>, <c>fsync</c>/<c>fdatasync</c>; <see cref="RandomAccess"/> on Windows) and returns an
/// <see cref="EngineResult"/>. One call per operation: a short transfer is returned as it is (SPEC §1).
/// </summary>
internal static unsafe class PositionalIo
{
    public static long Execute(AioRequest request)
    {
        SafeFileHandle file = request.File!;
        if (OperatingSystem.IsWindows())
        {
            return ExecuteWindows(request, file);
        }
        // The request's pins hold a reference on the handle, so the descriptor stays open even if the caller
        // disposes the handle meanwhile (its close is deferred until the operation completes).
        int fd = (int)file.DangerousGetHandle();
        return request.Kind switch
        {
            AioOperationKind.Read or AioOperationKind.Write => Transfer(request, fd),
            AioOperationKind.Flush => Sync(request, fd),
            _ => EngineResult.FromErrno(Errno.EINVAL),
        };
    }

    private static long Transfer(AioRequest request, int file)
    {
        bool read = request.Kind == AioOperationKind.Read;
        int segments = request.SegmentCount;
        if (segments == 1)
        {
            byte* buffer = request.SegmentPointer(0);
            nuint length = (nuint)request.Segment(0).Length;
            while (true)
            {
                nint result = read
                    ? Libc.PRead(file, buffer, length, request.Offset)
                    : Libc.PWrite(file, buffer, length, request.Offset);
                if (!ShouldRetry(result, out long outcome))
                {
                    return outcome;
                }
            }
        }

        // At most IOV_MAX (1024) entries of 16 bytes: 16 KiB of stack on a dedicated worker thread.
        IoVec* iov = stackalloc IoVec[segments];
        for (int i = 0; i < segments; i++)
        {
            iov[i].Base = request.SegmentPointer(i);
            iov[i].Length = (nuint)request.Segment(i).Length;
        }
        while (true)
        {
            nint result = read
                ? Libc.PReadV(file, iov, segments, request.Offset)
                : Libc.PWriteV(file, iov, segments, request.Offset);
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
        outcome = EngineResult.FromErrno(errno);
        return errno == Errno.EINTR;
    }

    private static long Sync(AioRequest request, int file)
    {
        while (true)
        {
            int result = request.DataOnly ? Libc.FDataSync(file) : Libc.FSync(file);
            if (!ShouldRetry(result, out long outcome))
            {
                return outcome;
            }
        }
    }

    private static long ExecuteWindows(AioRequest request, SafeFileHandle file)
    {
        try
        {
            switch (request.Kind)
            {
                case AioOperationKind.Read:
                {
                    long total = 0;
                    for (int i = 0; i < request.SegmentCount; i++)
                    {
                        Memory<byte> segment = request.Segment(i);
                        int n = RandomAccess.Read(file, segment.Span, request.Offset + total);
                        total += n;
                        if (n < segment.Length)
                        {
                            break; // short read: report what was transferred
                        }
                    }
                    return total;
                }
                case AioOperationKind.Write:
                {
                    long total = 0;
                    for (int i = 0; i < request.SegmentCount; i++)
                    {
                        Memory<byte> segment = request.Segment(i);
                        RandomAccess.Write(file, segment.Span, request.Offset + total);
                        total += segment.Length;
                    }
                    return total;
                }
                case AioOperationKind.Flush:
                    return WindowsFlush.FlushFileBuffers(file) ? 0 : EngineResult.FromErrno(Marshal.GetLastPInvokeError());
                default:
                    return EngineResult.FromErrno(Errno.EINVAL);
            }
        }
        catch (IOException e)
        {
            return EngineResult.FromErrno(e.HResult & 0xFFFF);
        }
        catch (UnauthorizedAccessException)
        {
            return EngineResult.FromErrno(5); // ERROR_ACCESS_DENIED
        }
        catch (NotSupportedException)
        {
            return EngineResult.FromErrno(1); // ERROR_INVALID_FUNCTION: the handle cannot seek (pipe, console)
        }
        catch (Exception e) when (e is ArgumentException or ObjectDisposedException)
        {
            return EngineResult.FromErrno(6); // ERROR_INVALID_HANDLE (RandomAccess refuses a disposed handle)
        }
    }
}
