using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using FileAio.Interop;
using FileAio.Interop.PosixAio;
using static FileAio.Interop.PosixAio.GlibcAioConstants;

namespace FileAio.Engines.PosixAio;

/// <summary>
/// How a thread asleep in glibc's <c>aio_suspend</c> is woken: a sentinel request — an <c>aio_read</c> of 8 bytes
/// from an eventfd — that every sleeper lists beside its own requests. Ringing writes the eventfd; the glibc helper
/// thread blocked in that read returns, the sentinel finishes, and <c>aio_suspend</c> returns in every sleeper.
/// </summary>
/// <remarks>
/// <para>1. One for the whole process, not one per engine: the sentinel holds one of glibc's helper threads (20 by
/// default, <c>aio_init</c>) for as long as it is armed, and a sentinel per context would let 20 idle contexts take
/// every helper and starve every request of the process. The cost: a ring wakes every sleeping PosixAio reaper, and
/// each goes back to sleep after finding nothing for it.</para>
/// <para>2. Never lost. A sleeper <see cref="Enter"/>s before it checks its own flags and leaves after
/// <c>aio_suspend</c> returns; the sentinel is re-armed (a new read on the same block) only when it has fired and no
/// sleeper holds it. So a ring that follows a sleeper's flag check is consumed by the sentinel that sleeper lists (or
/// finds already fired), never by one armed after it went to sleep.</para>
/// <para>3. The eventfd is blocking (the sentinel must wait in its read); a ring's write never blocks (the counter
/// would have to near 2^64).</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class GlibcDoorbell
{
    private static GlibcDoorbell? s_instance;
    private static readonly Lock s_createLock = new();

    private readonly Lock _lock = new();
    private readonly int _eventFd;
    private readonly GlibcAiocb* _sentinel;   // native, never freed: the process keeps the doorbell
    private readonly ulong* _buffer;
    private int _holders;                     // sleepers between Enter and Leave (guarded by _lock)

    private GlibcDoorbell(int eventFd)
    {
        _eventFd = eventFd;
        _sentinel = (GlibcAiocb*)NativeMemory.AlignedAlloc((nuint)sizeof(GlibcAiocb), 64);
        _buffer = (ulong*)NativeMemory.AllocZeroed(8);
    }

    /// <summary>The process's doorbell, created and armed on first use; or the errno of the failure.</summary>
    public static int TryGet(out GlibcDoorbell? doorbell)
    {
        doorbell = Volatile.Read(ref s_instance);
        if (doorbell is not null)
        {
            return 0;
        }
        lock (s_createLock)
        {
            if (s_instance is null)
            {
                int fd = Syscalls.EventFd(0, Syscalls.EFD_CLOEXEC);
                if (fd < 0)
                {
                    return Marshal.GetLastPInvokeError();
                }
                var created = new GlibcDoorbell(fd);
                int errno = created.ArmUnsynchronized();
                if (errno != 0)
                {
                    Syscalls.Close(fd);
                    return errno;
                }
                Volatile.Write(ref s_instance, created);
            }
            doorbell = s_instance;
            return 0;
        }
    }

    /// <summary>The sentinel's block, to list in <c>aio_suspend</c>.</summary>
    public GlibcAiocb* Sentinel => _sentinel;

    /// <summary>A sleeper starts (remark 2): re-arms a fired sentinel nobody holds, and holds it.</summary>
    public void Enter()
    {
        lock (_lock)
        {
            if (_holders == 0 && HasFiredUnsynchronized())
            {
                GlibcAio.Return(_sentinel);
                ArmUnsynchronized();
            }
            _holders++;
        }
    }

    /// <summary>A sleeper is done with the sentinel; returns whether it has fired and others still hold it (the
    /// caller yields, so they can leave and it can be re-armed).</summary>
    public bool Leave()
    {
        lock (_lock)
        {
            _holders--;
            bool fired = HasFiredUnsynchronized();
            if (fired && _holders == 0)
            {
                GlibcAio.Return(_sentinel);
                ArmUnsynchronized();
                return false;
            }
            return fired;
        }
    }

    /// <summary>Wakes every sleeper. Any thread.</summary>
    public void Ring()
    {
        ulong one = 1;
        Syscalls.Write(_eventFd, &one, sizeof(ulong));
    }

    /// <summary>Peeks at the block's error code (a plain int glibc writes under its lock; a stale EINPROGRESS only
    /// delays a re-arm), then confirms with <c>aio_error</c>.</summary>
    private bool HasFiredUnsynchronized() =>
        Volatile.Read(ref _sentinel->ErrorCode) != EINPROGRESS && GlibcAio.Error(_sentinel) != EINPROGRESS;

    private int ArmUnsynchronized()
    {
        *_sentinel = default;
        _sentinel->Fildes = _eventFd;
        _sentinel->Buf = (nint)_buffer;
        _sentinel->NBytes = sizeof(ulong);
        _sentinel->SigEvent.Notify = SIGEV_NONE;
        // pread fails with ESPIPE on an eventfd and glibc falls back to read (aio-abi.md §2.5).
        return GlibcAio.Read(_sentinel) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
