using System.Diagnostics;
using System.Text;

namespace FileAio.Testing;

/// <summary>
/// A mounted faultfs (tests/Shared/faultfs.py): one read-only file, <see cref="FilePath"/>, holding a backing file's
/// bytes, where every read that touches one of the given byte ranges fails in the kernel with EIO, as a bad sector
/// would. This is how the tests get a real device-style read error without device-mapper. Linked into both test
/// projects.
/// </summary>
internal sealed class FaultyFileSystem : IDisposable
{
    private const string Python = "/usr/bin/python3"; // Debian's python, where python3-fusepy installs
    private static readonly Lazy<string?> s_unavailable = new(FindWhyUnavailable);

    private readonly string _mountPoint;
    private readonly Process _server;
    private readonly StringBuilder _serverErrors = new();

    /// <summary>Why a faultfs cannot be mounted here (not root, no /dev/fuse, no python3-fusepy), or null when it can.
    /// CI installs what it needs (.ci/run), so there it is null.</summary>
    public static string? Unavailable => s_unavailable.Value;

    /// <summary>The file with the bad ranges.</summary>
    public string FilePath => Path.Combine(_mountPoint, "data");

    private FaultyFileSystem(string mountPoint, Process server)
    {
        _mountPoint = mountPoint;
        _server = server;
    }

    /// <summary>Mounts a faultfs at <paramref name="mountPoint"/> (created if missing) serving
    /// <paramref name="backingFile"/>; reads touching any of <paramref name="badRanges"/> (start inclusive, end
    /// exclusive, in bytes) fail with EIO. With no ranges, no read fails.</summary>
    public static FaultyFileSystem Mount(string backingFile, string mountPoint, params (long Start, long End)[] badRanges) =>
        Mount(backingFile, mountPoint, statfsFails: false, badRanges);

    /// <summary>As <see cref="Mount(string, string, ValueTuple{long, long}[])"/>; with <paramref name="statfsFails"/>,
    /// <c>statfs</c> on the mount fails with EIO too (a network file system whose remote is down).</summary>
    public static FaultyFileSystem Mount(string backingFile, string mountPoint, bool statfsFails, params (long Start, long End)[] badRanges)
    {
        if (Unavailable is string why)
        {
            throw new InvalidOperationException($"faultfs cannot be mounted here: {why}");
        }
        Directory.CreateDirectory(mountPoint);
        string ranges = string.Join(",", badRanges.Select(r => $"{r.Start}-{r.End}"));
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in new[] { ScriptPath, backingFile, mountPoint, ranges })
        {
            start.ArgumentList.Add(argument);
        }
        if (statfsFails)
        {
            start.ArgumentList.Add("--statfs-fails");
        }
        Process server = Process.Start(start)!;
        var mounted = new FaultyFileSystem(mountPoint, server);
        server.ErrorDataReceived += (_, e) => { lock (mounted._serverErrors) { mounted._serverErrors.AppendLine(e.Data); } };
        server.OutputDataReceived += (_, _) => { };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();

        // The mount is ready when the file shows through it.
        var clock = Stopwatch.StartNew();
        while (!File.Exists(mounted.FilePath))
        {
            if (server.HasExited || clock.Elapsed > TimeSpan.FromSeconds(15))
            {
                mounted.Dispose();
                throw new InvalidOperationException($"faultfs did not mount at {mountPoint}: {mounted.ServerErrors}");
            }
            Thread.Sleep(20);
        }
        return mounted;
    }

    private string ServerErrors
    {
        get { lock (_serverErrors) { return _serverErrors.ToString().Trim(); } }
    }

    /// <summary>Unmounts (lazily if something still holds the file open; also when the server has died, which leaves
    /// a dead mount behind) and waits for the server to end: SIGTERM first, on which libfuse unmounts, then SIGKILL.</summary>
    public void Dispose()
    {
        if (Run("umount", _mountPoint) != 0)
        {
            Run("umount", "-l", _mountPoint); // busy, or already gone ("not mounted"): either way nothing is left
        }
        if (!_server.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            _ = kill(_server.Id, 15); // SIGTERM
            if (!_server.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _server.Kill();
            }
        }
        _server.WaitForExit(); // and its stderr is read to the end
        _server.Dispose();
    }

    private static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "faultfs.py");

    private static string? FindWhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux";
        }
        if (geteuid() != 0)
        {
            return "needs root (mount)";
        }
        if (!File.Exists("/dev/fuse"))
        {
            return "no /dev/fuse";
        }
        // Import the script itself: the same import of fusepy (Debian's module name or pip's) that a mount will do.
        if (!File.Exists(Python) || Run(Python, "-c", $"import sys; sys.path.insert(0, {PythonString(AppContext.BaseDirectory)}); import faultfs") != 0)
        {
            return "needs python3-fusepy and libfuse2 (apt-get install python3-fusepy libfuse2)";
        }
        return null;
    }


    private static string PythonString(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    private static int Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
