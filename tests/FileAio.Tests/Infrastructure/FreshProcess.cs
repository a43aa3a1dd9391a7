using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Runs a scenario of tests/FileAio.FreshProcess in a process of its own (<c>dotnet FileAio.FreshProcess.dll SCENARIO
/// ENGINE ROUNDS DELAY</c>): for what only a fresh process shows (code running for the first time), and for misuse that
/// a broken library answers by killing the process, which must fail one test rather than end the test run. The child
/// bounds its own waits; this bounds the child too, and kills it (only it) when it overruns.
/// </summary>
internal static class FreshProcess
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(60);

    /// <summary>The scenario program, built beside this project (see the ProjectReference in FileAio.Tests.csproj).</summary>
    private static string ProgramPath =>
        typeof(FreshProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "FileAio.FreshProcess").Value!;

    public sealed record Result(string Command, int ExitCode, bool TimedOut, string Output, string Errors)
    {
        public bool Passed => !TimedOut && ExitCode == 0;

        /// <summary>What happened, for a failure message: the exit (or the kill), the child's FAIL lines and output, and
        /// the start of its stderr (a FailFast's message and stack).</summary>
        public string Describe()
        {
            string how = TimedOut ? $"was killed after {s_limit.TotalSeconds:0} s"
                : ExitCode == 1 ? "reported failed checks (exit 1)"
                : ExitCode == 134 ? "died (exit 134, SIGABRT: a FailFast)"
                : $"ended with exit code {ExitCode}";
            var text = new StringBuilder($"`{Command}` {how}.");
            if (Output.Length > 0)
            {
                text.Append("\nstdout:\n").Append(Output.TrimEnd());
            }
            if (Errors.Length > 0)
            {
                string[] lines = Errors.Split('\n');
                text.Append("\nstderr:\n").Append(string.Join('\n', lines.Take(25)).TrimEnd());
                if (lines.Length > 25)
                {
                    text.Append($"\n… ({lines.Length - 25} more lines)");
                }
            }
            return text.ToString();
        }
    }

    public static async Task<Result> RunAsync(string scenario, AioEngineKind engine, int rounds = 1, int delayMicroseconds = 0)
    {
        string program = ProgramPath;
        Assert.True(File.Exists(program), $"The scenario program is missing: {program} (build tests/FileAio.FreshProcess).");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { program, scenario, engine.ToString(), rounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            delayMicroseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        string command = $"dotnet FileAio.FreshProcess.dll {scenario} {engine} {rounds} {delayMicroseconds}";
        using Process child = Process.Start(start)!;
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        Task<string> errors = child.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(s_limit);
        bool timedOut = false;
        try
        {
            await child.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }
        return new Result(command, child.ExitCode, timedOut, await output, await errors);
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
