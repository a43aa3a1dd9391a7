using System.Runtime.InteropServices;

namespace FileAio.Interop.PosixAio;

/// <summary>
/// <c>struct timespec</c> as the 64-bit ABIs of glibc, FreeBSD and macOS define it: <c>time_t tv_sec</c> and
/// <c>long tv_nsec</c>, 8 bytes each (16 bytes). Used for the relative timeouts of <c>aio_suspend</c> and
/// <c>kevent</c>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct Timespec
{
    [FieldOffset(0)] public long Seconds;
    [FieldOffset(8)] public long Nanoseconds;

    /// <summary>A relative timeout of <paramref name="milliseconds"/> (not negative).</summary>
    public static Timespec FromMilliseconds(long milliseconds) => new()
    {
        Seconds = milliseconds / 1000,
        Nanoseconds = milliseconds % 1000 * 1_000_000,
    };
}
