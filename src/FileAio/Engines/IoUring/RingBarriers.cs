namespace FileAio.Engines.IoUring;

/// <summary>
/// The memory-ordering primitives for memory shared with the kernel, in one place (liburing's <c>barrier.h</c>).
/// On x86-64 acquire and release are plain moves that the JIT must not reorder; on arm64 they become
/// <c>ldar</c>/<c>stlr</c>. Every use names the kernel's side of the handshake.
/// </summary>
internal static unsafe class RingBarriers
{
    /// <summary>Reads a word the kernel publishes (CQ tail, SQ head): later reads (the CQEs) cannot move before it.</summary>
    public static uint LoadAcquire(uint* location) => Volatile.Read(ref *location);

    /// <summary>Publishes a word the kernel reads (SQ tail, CQ head): earlier writes (the SQEs) or reads (the CQEs)
    /// cannot move after it.</summary>
    public static void StoreRelease(uint* location, uint value) => Volatile.Write(ref *location, value);

    /// <summary>A full fence: orders our tail store before a following load of the kernel's SQ flags (liburing's
    /// <c>io_uring_smp_mb</c>), which acquire/release alone do not.</summary>
    public static void FullFence() => Interlocked.MemoryBarrier();
}
