using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace FileAio.Package.Tests.Infrastructure;

/// <summary>
/// Runs the .NET SDK (<c>dotnet ARGS</c>) as a developer's shell would: the SDK's own settings that a test host inherits
/// from <c>dotnet test</c> (MSBuild paths, node settings) are removed, so the child finds its SDK afresh; telemetry and
/// banners are off; no build server or MSBuild node is left running (one would hold the output pipes open, and with
/// them this call, after the command ended). Each run has a time limit, after which the child's process tree is
/// killed and the result says so.
/// </summary>
public static class DotnetCommand
{
    public sealed record Result(string Command, string Directory, TimeSpan Limit, int ExitCode, bool TimedOut,
        TimeSpan Elapsed, string Output, string Errors)
    {
        public bool Succeeded => !TimedOut && ExitCode == 0;

        /// <summary>For a failure message: the command, how it ended, and the end of what it printed (the SDK prints
        /// its errors last, and to stdout).</summary>
        public string Describe()
        {
            string how = TimedOut ? $"was killed after {Limit.TotalSeconds:0} s" : $"ended with exit code {ExitCode} after {Elapsed.TotalSeconds:0.0} s";
            var text = new StringBuilder($"`{Command}` in {Directory} {how}.");
            AppendTail(text, "stdout", Output, 80);
            AppendTail(text, "stderr", Errors, 40);
            return text.ToString();
        }

        private static void AppendTail(StringBuilder text, string name, string printed, int lines)
        {
            if (printed.Trim().Length == 0)
            {
                return;
            }
            string[] all = printed.TrimEnd().Split('\n');
            text.Append('\n').Append(name).Append(":\n");
            if (all.Length > lines)
            {
                text.Append($"… ({all.Length - lines} lines before)\n");
            }
            text.Append(string.Join('\n', all.Skip(Math.Max(0, all.Length - lines))));
        }
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> in <paramref name="directory"/>; entries of
    /// <paramref name="environment"/> are set in the child's environment (null removes one).</summary>
    public static async Task<Result> RunAsync(string directory, TimeSpan limit, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (string inherited in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(inherited);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild server, no reused nodes, no compiler server: nothing outlives the command.
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        string command = "dotnet " + string.Join(' ', start.ArgumentList);
        var clock = Stopwatch.StartNew();
        using Process child = Process.Start(start)!;
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        Task<string> errors = child.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(limit);
        bool timedOut = false;
        try
        {
            await child.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }
        return new Result(command, directory, limit, child.ExitCode, timedOut, clock.Elapsed, await output, await errors);
    }

    /// <summary>The dotnet host that runs this test process: DOTNET_HOST_PATH when the SDK set it, else the one three
    /// levels above the runtime directory (…/dotnet/shared/Microsoft.NETCore.App/10.0.x/), else "dotnet" on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }
        string beside = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(beside) ? beside : "dotnet";
    }
}
