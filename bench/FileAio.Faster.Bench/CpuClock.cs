using System.ComponentModel;
using System.Runtime.InteropServices;

namespace FileAio.Faster.Bench;

/// <summary>CPU time of the whole process (every thread: FASTER's, the device's, the runtime's) and of one thread,
/// from the kernel's CPU clocks (nanoseconds; <c>Process.TotalProcessorTime</c> counts in 10 ms clock ticks).</summary>
internal static class CpuClock
{
    public static TimeSpan Process() => Read(Libc.ClockProcessCpuTime);

    /// <summary>The CPU clock of a running thread, for <see cref="Thread(int)"/> (<c>pthread_getcpuclockid</c>).</summary>
    public static int OfThread(nuint pthread)
    {
        int error = Libc.PthreadGetCpuClockId(pthread, out int clock);
        return error == 0 ? clock : throw new Win32Exception(error);
    }

    /// <summary>CPU time so far of the thread whose clock this is; valid while the thread runs.</summary>
    public static TimeSpan Thread(int clock) => Read(clock);

    private static TimeSpan Read(int clock) =>
        Libc.ClockGetTime(clock, out Libc.TimeSpec time) == 0 ? time.ToTimeSpan() : throw new Win32Exception(Marshal.GetLastPInvokeError());
}
