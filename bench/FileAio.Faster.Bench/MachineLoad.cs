using System.Globalization;

namespace FileAio.Faster.Bench;

/// <summary>The one-minute load average, for the report: the machine is shared, and a run taken while other work
/// kept its two cores busy says so in its own numbers.</summary>
internal static class MachineLoad
{
    public static double OneMinute()
    {
        string text = File.ReadAllText("/proc/loadavg");
        return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
    }
}
