using System.Runtime.InteropServices;

namespace FileAio.Interop.PosixAio;

// glibc's POSIX AIO structures (rt/aio.h, bits/types/sigevent_t.h), for LP64 Linux: x86-64 and arm64 share every
// size and offset (research doc aio-abi.md §2.2-2.3). Explicit offsets make the layout readable without the header;
// the ABI tests pin them against the documented numbers and, where gcc is installed, against the real headers.
// 32-bit Linux has another layout (4-byte pointers and size_t): these declarations are for 64-bit processes only.

/// <summary>
/// glibc <c>struct sigevent</c> (64 bytes): how a finished request is announced. <c>sigev_value</c> comes first and
/// <c>sigev_notify</c> last of the fixed part, the reverse of the BSDs. The 48-byte union <c>_sigev_un</c> starts at
/// 16; only its members named here exist in the 2.36 headers.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct GlibcSigevent
{
    /// <summary><c>sigev_value</c>: <c>union sigval</c> (int or pointer), passed to the signal or callback.</summary>
    [FieldOffset(0)] public nint Value;

    [FieldOffset(8)] public int Signo;

    /// <summary><c>sigev_notify</c>: one of <see cref="GlibcAioConstants.SIGEV_NONE"/> (1, not 0 as on the BSDs),
    /// <see cref="GlibcAioConstants.SIGEV_SIGNAL"/>, <see cref="GlibcAioConstants.SIGEV_THREAD"/>.</summary>
    [FieldOffset(12)] public int Notify;

    /// <summary><c>sigev_notify_function</c>, <c>void (*)(union sigval)</c>, for SIGEV_THREAD: glibc starts a new
    /// thread per completion to call it (aio-abi.md §2.6).</summary>
    [FieldOffset(16)] public nint NotifyFunction;

    /// <summary><c>sigev_notify_attributes</c>, a <c>pthread_attr_t*</c> for that thread (null: defaults).</summary>
    [FieldOffset(24)] public nint NotifyAttributes;

    /// <summary><c>_sigev_un._tid</c>, for SIGEV_THREAD_ID; it overlays <see cref="NotifyFunction"/>. glibc's AIO
    /// notification ignores SIGEV_THREAD_ID (it behaves as SIGEV_NONE).</summary>
    [FieldOffset(16)] public int ThreadId;
}

/// <summary>
/// glibc <c>struct aiocb</c> (168 bytes; <c>aiocb64</c> is the same type on LP64). glibc keeps a pointer to the
/// caller's block and its helper threads write <see cref="ErrorCode"/> and <see cref="ReturnValue"/> into it, so a
/// submitted block must stay at one address (native memory, not a movable managed object) until its completion has
/// been observed.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 168)]
internal struct GlibcAiocb
{
    [FieldOffset(0)] public int Fildes;

    /// <summary><c>aio_lio_opcode</c>: <see cref="GlibcAioConstants.LIO_READ"/> (0), LIO_WRITE (1) or LIO_NOP (2);
    /// read by <c>lio_listio</c> only.</summary>
    [FieldOffset(4)] public int LioOpcode;

    /// <summary><c>aio_reqprio</c>: 0..<see cref="GlibcAioConstants.AIO_PRIO_DELTA_MAX"/>, else the request fails
    /// with EINVAL.</summary>
    [FieldOffset(8)] public int ReqPrio;

    // 12..15: padding before the pointer.

    [FieldOffset(16)] public nint Buf;

    [FieldOffset(24)] public nuint NBytes;

    [FieldOffset(32)] public GlibcSigevent SigEvent;

    // 96..111: __next_prio, __abs_prio, __policy (glibc's queue bookkeeping).

    /// <summary><c>__error_code</c> (glibc-private): what <c>aio_error</c> returns. Enqueueing writes EINPROGRESS
    /// here and a failed enqueue its error, except a pool allocation failure, which writes nothing — so an engine
    /// that must tell which entries of a <c>lio_listio</c> were queued pre-sets a sentinel here (aio-abi.md §2.5).
    /// Read it through <c>aio_error</c>, which takes glibc's lock; the field is named only for that sentinel.</summary>
    [FieldOffset(112)] public int ErrorCode;

    /// <summary><c>__return_value</c> (glibc-private): what <c>aio_return</c> returns; 0 while pending.</summary>
    [FieldOffset(120)] public nint ReturnValue;

    /// <summary><c>aio_offset</c> (<c>off64_t</c>): after the private fields in glibc, at 8 on the BSDs.</summary>
    [FieldOffset(128)] public long Offset;

    // 136..167: __glibc_reserved[32].
}

/// <summary>
/// glibc <c>struct aioinit</c> (eight ints, 32 bytes), the argument of <c>aio_init</c>. It tunes glibc's helper
/// thread pool and has effect only before the first request of the process (aio-abi.md §2.5). glibc's defaults are
/// 20 threads, 64 requests and 1 second idle time; <see cref="Num"/> is rounded down to a multiple of 32 (at least 32).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct GlibcAioInit
{
    /// <summary><c>aio_threads</c>: most helper threads (at least 1).</summary>
    [FieldOffset(0)] public int Threads;

    /// <summary><c>aio_num</c>: expected number of simultaneous requests (sizes the request pool).</summary>
    [FieldOffset(4)] public int Num;

    [FieldOffset(8)] public int Locks;
    [FieldOffset(12)] public int UsedBa;
    [FieldOffset(16)] public int Debug;
    [FieldOffset(20)] public int NumUsers;

    /// <summary><c>aio_idle_time</c>: seconds an idle helper thread waits for work before it exits.</summary>
    [FieldOffset(24)] public int IdleTime;

    [FieldOffset(28)] public int Reserved;
}
