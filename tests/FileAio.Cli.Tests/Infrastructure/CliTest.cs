namespace FileAio.Cli.Tests.Infrastructure;

/// <summary>
/// Base of the CLI tests: a fresh temporary directory per test (removed at the end), and <see cref="Run"/>, which
/// calls the program's entry point in-process with captured standard output and error (no terminal, so no progress
/// bars: plain lines, as in a pipe).
/// </summary>
public abstract class CliTest : IDisposable
{
    protected CliTest()
    {
        Directory = Path.Combine(Path.GetTempPath(), "fileaio-cli-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The test's own directory (on the machine's temp file system; ext4 here, so O_DIRECT works).</summary>
    protected string Directory { get; }

    protected string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Runs <c>fileaio</c> with <paramref name="args"/> and returns the exit code and what it printed.</summary>
    internal static CliRun Run(params string[] args) => Run(CancellationToken.None, args);

    internal static CliRun Run(CancellationToken cancellationToken, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = FileAioCli.RunAsync(args, new Terminal(output, error), cancellationToken).GetAwaiter().GetResult();
        return new CliRun(exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs <c>fileaio</c> with standard output going to <paramref name="output"/> (a real file or device).</summary>
    internal static CliRun Run(TextWriter output, params string[] args)
    {
        using var error = new StringWriter();
        int exit = FileAioCli.RunAsync(args, new Terminal(output, error), CancellationToken.None).GetAwaiter().GetResult();
        return new CliRun(exit, "", error.ToString());
    }

    /// <summary>The engine an <c>--engine</c> word names.</summary>
    internal static AioEngineKind EngineKind(string name)
    {
        Assert.Null(EngineNames.Read(name, out AioEngineKind kind));
        return kind;
    }

    /// <summary>A file of <paramref name="length"/> pseudo-random bytes (a different stream per name).</summary>
    protected string CreateRandomFile(string name, long length)
    {
        string path = PathOf(name);
        var random = new Random(name.GetHashCode(StringComparison.Ordinal));
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        var chunk = new byte[1 << 16];
        for (long written = 0; written < length; written += chunk.Length)
        {
            random.NextBytes(chunk);
            stream.Write(chunk, 0, (int)Math.Min(chunk.Length, length - written));
        }
        return path;
    }

    /// <summary>The names of the files in the test directory (to check that nothing was left behind).</summary>
    protected string[] FileNames() => [.. System.IO.Directory.GetFiles(Directory).Select(Path.GetFileName).Order()!];

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        GC.SuppressFinalize(this);
    }
}
