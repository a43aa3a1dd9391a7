using System.Runtime.InteropServices;

namespace FileAio.Cli.Platform;

/// <summary><c>struct timespec</c> on 64-bit Linux: seconds and nanoseconds, 8 bytes each; <c>futimens</c> takes two
/// (access, then modification).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;
}
