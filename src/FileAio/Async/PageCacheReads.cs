using System.Runtime.InteropServices;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Async;

/// <summary>
/// The page-cache fast path of one <see cref="AioFile"/>'s reads: before a read goes to the engine, it is tried on the
/// calling thread with <c>preadv2(RWF_NOWAIT)</c>, which copies what the page cache already holds and fails with EAGAIN
/// rather than wait for the device. A read served this way completes synchronously, without the round trip through an
/// engine thread and back through the thread pool, which costs several times the read itself when the data is in
/// memory.
/// </summary>
/// <remarks>
/// <para>Why the calling thread may do it: with RWF_NOWAIT the kernel never sleeps on I/O for the read; it copies
/// cached pages or gives up. io_uring does the same inside <c>io_uring_enter</c> (a buffered read is first tried
/// non-blocking, inline), and so does the runtime's socket engine (the non-blocking call first, epoll only after
/// EAGAIN). Only reads of files opened without O_DIRECT: a direct read with RWF_NOWAIT still waits for the device.</para>
/// <para>What the engine still gets: a read the cache cannot serve at all (EAGAIN), the rest of a read it serves in
/// part, a read at the end of the file (0 bytes: the engine answers it, so an odd file system cannot turn a miss into
/// a false end of file), any error (the engine reports it as usual), and reads over <see cref="MaxInlineBytes"/>.</para>
/// <para>It adapts. Misses in a row double the number of following reads sent straight to the engine (1, 2, 4 … up
/// to 1024), so a cold file or a random workload far larger than memory stops paying for the failed attempt; any hit
/// resets it. A file system that refuses RWF_NOWAIT (EOPNOTSUPP: tmpfs, FUSE, many network file systems) turns the
/// path off for the file, and so do errors that cannot change for its descriptor (ESPIPE, EBADF, EISDIR); a libc
/// without <c>preadv2</c> turns it off for the process.</para>
/// <para>The counters are plain fields updated without synchronisation: racing callers may skip one attempt too many
/// or too few, which changes where a read is served, never what it returns.</para>
/// </remarks>
internal sealed unsafe class PageCacheReads
{
    /// <summary>Most reads sent straight to the engine after a run of misses, before the cache is tried again.</summary>
    private const int MaxSkip = 1024;

    /// <summary>Largest read tried on the calling thread: a bigger one goes to the engine, so that one call does not
    /// hold its caller for a long copy (256 KiB is tens of microseconds here).</summary>
    public const int MaxInlineBytes = 256 * 1024;

    private static bool s_preadv2Missing;              // set once if libc has no preadv2

    private bool _unsupported;                         // the file system refuses RWF_NOWAIT
    private int _skip;                                 // reads still to send straight to the engine
    private int _nextSkip;                             // what the next miss sets _skip to (0: no miss in a row yet)

    /// <summary>Whether a read of <paramref name="length"/> bytes should try the page cache first. (Reads only, in
    /// steady state: no shared writes.)</summary>
    public bool ShouldTry(long length)
    {
        if (length > MaxInlineBytes)
        {
            return false;
        }
        if (_unsupported || s_preadv2Missing)
        {
            return false;
        }
        if (_skip > 0)
        {
            _skip--;
            return false;
        }
        return true;
    }

    /// <summary>Reads what the page cache holds of <paramref name="buffer"/>'s range: returns the bytes copied, all
    /// of the buffer on a hit, fewer (perhaps 0) when the engine must read the rest.</summary>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public int TryRead(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        nint result;
        int errno = 0;
        bool referenced = false;
        handle.DangerousAddRef(ref referenced); // the descriptor cannot be closed and reused during the call
        try
        {
            fixed (byte* start = buffer)
            {
                var vector = new IoVec { Base = start, Length = (nuint)buffer.Length };
                result = PReadV2NoWait((int)handle.DangerousGetHandle(), &vector, 1, offset, ref errno);
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
        return (int)Account(result, errno, buffer.Length);
    }

    /// <summary>The vectored form, on buffers the caller has pinned and a descriptor it holds a reference on:
    /// returns the bytes copied.</summary>
    public long TryRead(int fd, IoVec* vectors, int count, long offset, long total)
    {
        int errno = 0;
        nint result = PReadV2NoWait(fd, vectors, count, offset, ref errno);
        return Account(result, errno, total);
    }

    private static nint PReadV2NoWait(int fd, IoVec* vectors, int count, long offset, ref int errno)
    {
        try
        {
            nint result = Libc.PReadV2(fd, vectors, count, offset, LinuxConstants.RWF_NOWAIT);
            if (result < 0)
            {
                errno = Marshal.GetLastPInvokeError();
            }
            return result;
        }
        catch (EntryPointNotFoundException)
        {
            s_preadv2Missing = true;
            errno = Errno.ENOSYS;
            return -1;
        }
    }

    private long Account(nint result, int errno, long wanted)
    {
        if (result > 0)
        {
            // All or part of the range is cached: keep trying. Written only on a change, so that callers on other
            // cores do not fight over the cache line on every hit.
            if (_nextSkip != 0)
            {
                _nextSkip = 0;
            }
            return result;
        }
        if (result < 0 && errno is Errno.EOPNOTSUPP or Errno.ENOSYS or Errno.ESPIPE or Errno.EBADF or Errno.EISDIR)
        {
            // Errors that will not go away for this descriptor (no RWF_NOWAIT, no positional reads, not open for
            // reading, a directory): stop trying; the engine reports whatever applies to each read.
            _unsupported = true;
            return 0;
        }
        if (result == 0 && wanted > 0)
        {
            return 0; // the end of the file (the engine confirms it): not a miss
        }
        // EAGAIN (nothing cached), or an error the engine will report: a miss.
        int next = _nextSkip == 0 ? 1 : Math.Min(_nextSkip * 2, MaxSkip);
        _nextSkip = next;
        _skip = next;
        return 0;
    }
}
