using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FileAio.Tests.Abi;

/// <summary>
/// Asks a C compiler what a platform's headers say: a C file puts every expression (a <c>sizeof</c>, an
/// <c>offsetof</c>, a constant), evaluated by the compiler, into one array, and the numbers are read back from the
/// compiler's assembly output. Nothing is linked or run, so a cross compiler checks another CPU's headers.
/// </summary>
internal static class CHeaderFacts
{
    /// <summary>What one compilation gave.</summary>
    /// <param name="Values">The evaluated expressions, in order; null when the compiler failed.</param>
    /// <param name="Output">The compiler's messages (why it failed).</param>
    /// <param name="Target">The compiler's target triple.</param>
    public sealed record Result(IReadOnlyList<long>? Values, string Output, string Target);

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Compiles <paramref name="expressions"/> after <paramref name="prologue"/> (includes, guards) with
    /// <paramref name="compiler"/> in <paramref name="directory"/>.</summary>
    public static Result Evaluate(string compiler, string defines, string prologue, IEnumerable<string> expressions, string directory)
    {
        var source = new StringBuilder(prologue);
        source.AppendLine("const long long fileaio_abi_facts[] = {");
        foreach (string expression in expressions)
        {
            source.AppendLine(CultureInfo.InvariantCulture, $"    (long long)({expression}),");
        }
        source.AppendLine("};");
        string sourcePath = Path.Combine(directory, "abi.c");
        string assemblyPath = Path.Combine(directory, "abi.s");
        File.WriteAllText(sourcePath, source.ToString());
        (int compiled, string output) = Run(compiler, $"{defines} -S -o {assemblyPath} {sourcePath}");
        (_, string target) = Run(compiler, "-dumpmachine");
        return new Result(compiled == 0 ? ArrayValues(File.ReadAllText(assemblyPath)) : null, output, target.Trim());
    }

    /// <summary>The numbers of <c>fileaio_abi_facts</c> in gcc's assembly: 8-byte values (<c>.quad</c> on x86-64,
    /// <c>.xword</c> on arm64) and runs of zeros (<c>.zero N</c>).</summary>
    private static List<long> ArrayValues(string assembly)
    {
        var values = new List<long>();
        bool inArray = false;
        foreach (string raw in assembly.Split('\n'))
        {
            string line = raw.Trim();
            if (line == "fileaio_abi_facts:")
            {
                inArray = true;
                continue;
            }
            if (!inArray)
            {
                continue;
            }
            string[] parts = line.Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] is ".quad" or ".xword" or ".8byte" or ".dword")
            {
                values.Add(long.Parse(parts[1], CultureInfo.InvariantCulture));
            }
            else if (parts.Length == 2 && parts[0] == ".zero")
            {
                values.AddRange(Enumerable.Repeat(0L, int.Parse(parts[1], CultureInfo.InvariantCulture) / 8));
            }
            else
            {
                break; // the array ends at the first other directive (.size, .ident, a label)
            }
        }
        return values;
    }

    /// <summary>Runs a program to its end (at most a minute) and returns its exit code and its output.</summary>
    private static (int ExitCode, string Output) Run(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill();
            throw new TimeoutException($"{program} did not finish within a minute");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
