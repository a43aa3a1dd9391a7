using System.Diagnostics;

namespace FileAio.Cli.Tests.Infrastructure;

/// <summary>coreutils' <c>touch</c>, <c>stat</c> and <c>mkfifo</c>: they set and read what the tests check (times to
/// the nanosecond, modes, owners) independently of the code under test.</summary>
internal static class Coreutils
{
    /// <summary>Runs <paramref name="program"/> and returns its standard output, trimmed; a failure fails the test.</summary>
    public static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: exit {process.ExitCode}: {error}");
        return output.Trim();
    }

    /// <summary>"640 65534:100 1560000000.111222333 1577934245.123456789": octal mode (with set-id and sticky bits),
    /// owner:group, access and modification time in seconds to the nanosecond.</summary>
    public static string Stat(string path) => Run("stat", "--format=%a %u:%g %.9X %.9Y", path);
}
