using System.Diagnostics;
using System.Text;

namespace FileAio.Cli.Tests.Infrastructure;

/// <summary>
/// Runs a program in a process of its own with a time limit, capturing what it prints: for the tests that build, install
/// and run the packed tool (<see cref="InstalledTool"/>). A child that overruns its limit is killed with its process
/// tree (only it), so a hung build or install fails one test instead of the whole run.
/// </summary>
internal static class ChildProcess
{
    /// <summary>What one child did, with a <see cref="ToString"/> made for failure messages.</summary>
    public sealed record Result(string Command, int ExitCode, bool TimedOut, TimeSpan Elapsed, string Output, string Error)
    {
        public bool Succeeded => !TimedOut && ExitCode == 0;

        public override string ToString()
        {
            string how = TimedOut ? $"was killed after {Elapsed.TotalSeconds:0} s" : $"exited {ExitCode} after {Elapsed.TotalSeconds:0.0} s";
            return $"`{Command}` {how}\n--- stdout (end)\n{Tail(Output)}\n--- stderr (end)\n{Tail(Error)}";
        }

        // A build log runs to hundreds of lines; its errors are at the end.
        private static string Tail(string text)
        {
            string[] lines = text.TrimEnd().Split('\n');
            const int Keep = 80;
            return lines.Length <= Keep ? string.Join('\n', lines) : $"… ({lines.Length - Keep} lines above)\n" + string.Join('\n', lines[^Keep..]);
        }
    }

    /// <summary>Runs <paramref name="program"/> and waits for it, at most <paramref name="limit"/>. Each entry of
    /// <paramref name="environment"/> sets a variable, or with a null value removes an inherited one; a name ending in
    /// <c>*</c> removes every inherited variable that starts with the rest (case-insensitive).</summary>
    public static Result Run(string program, IEnumerable<string> arguments, string workingDirectory, TimeSpan limit,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (name.EndsWith('*'))
            {
                string prefix = name[..^1];
                foreach (string inherited in start.Environment.Keys.Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToList())
                {
                    start.Environment.Remove(inherited);
                }
            }
            else if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        string command = string.Join(' ', start.ArgumentList.Prepend(program));

        var output = new StringBuilder();
        var error = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using Process child = Process.Start(start)!;
        // Both pipes are drained as the child writes: a child that fills one while we wait on the other would hang.
        child.OutputDataReceived += (_, e) => Append(output, e.Data);
        child.ErrorDataReceived += (_, e) => Append(error, e.Data);
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        bool timedOut = !child.WaitForExit(limit);
        if (timedOut)
        {
            child.Kill(entireProcessTree: true);
        }
        child.WaitForExit(); // the parameterless wait also waits for the end of both pipes
        clock.Stop();
        lock (output)
        {
            lock (error)
            {
                return new Result(command, timedOut ? -1 : child.ExitCode, timedOut, clock.Elapsed, output.ToString(), error.ToString());
            }
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.Append(line).Append('\n');
        }
    }
}
