using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Base of every test class that touches files: owns a fresh temporary directory, offers file helpers, and at the end
/// checks that no file descriptor into that directory was leaked (by the library or the test) before deleting it.
/// </summary>
public abstract class FileAioTest : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<Action> _releases = [];

    protected FileAioTest()
    {
        Directory = Path.Combine(Path.GetTempPath(), "fileaio-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The test's own directory (on the machine's temp file system; ext4 here, so O_DIRECT works).</summary>
    protected string Directory { get; }

    protected static TimeSpan LongTimeout => TimeSpan.FromSeconds(30);

    protected string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    /// <summary>Creates a file of <paramref name="length"/> bytes where byte i is <c>(i * 7 + seed) % 251</c>, and returns its path.</summary>
    protected string CreatePatternFile(string name, long length, int seed = 1)
    {
        string path = PathOf(name);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        var chunk = new byte[65536];
        for (long written = 0; written < length;)
        {
            int n = (int)Math.Min(chunk.Length, length - written);
            for (int i = 0; i < n; i++)
            {
                chunk[i] = PatternByte(written + i, seed);
            }
            stream.Write(chunk, 0, n);
            written += n;
        }
        stream.Flush(flushToDisk: true);
        return path;
    }

    protected static byte PatternByte(long position, int seed = 1) => (byte)((position * 7 + seed) % 251);

    /// <summary>Opens a handle that the test base disposes at the end (tests may dispose it earlier).</summary>
    protected SafeFileHandle Open(string path, FileMode mode = FileMode.Open, FileAccess access = FileAccess.ReadWrite, bool direct = false)
    {
        SafeFileHandle handle = AioFile.OpenHandle(path, mode, access, direct);
        _owned.Add(handle);
        return handle;
    }

    /// <summary>Registers something for disposal at the end of the test, before the leak check.</summary>
    protected T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>Memory that blocks any kernel copy until released (see <see cref="UserfaultStall"/>). Needs root: the
    /// test is skipped with the reason otherwise. Released at the end of the test before anything else is disposed,
    /// so a failing test cannot leave a context waiting for ever.</summary>
    protected UserfaultStall NewStall(int length = 4096)
    {
        Require.Linux();
        Require.Root();
        var stall = Own(new UserfaultStall(length));
        _releases.Add(stall.Release);
        return stall;
    }

    /// <summary>Registers something to run first at the end of the test — letting held operations go — so that a
    /// failing test cannot leave a context waiting for ever in Dispose.</summary>
    protected void ReleaseFirstAtEnd(Action release) => _releases.Add(release);

    /// <summary>Open descriptors of this process that point into the test directory.</summary>
    protected IReadOnlyList<string> OpenDescriptorsInDirectory()
    {
        var found = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return found;
        }
        foreach (string fd in System.IO.Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith(Directory, StringComparison.Ordinal))
                {
                    found.Add($"{fd} -> {target}");
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked (the directory enumeration's own fd, say).
            }
        }
        return found;
    }

    /// <summary>Lets held operations go, then disposes the test's contexts, now, on this thread: for contexts that
    /// accept calls from the thread that created them only. The end of the test then finds them gone.</summary>
    protected void EndContextsOnThisThread()
    {
        foreach (Action release in _releases)
        {
            release();
        }
        foreach (IDisposable owned in Enumerable.Reverse(_owned).Where(o => o is AioContext).ToList())
        {
            owned.Dispose();
            _owned.Remove(owned);
        }
    }

    public virtual void Dispose()
    {
        foreach (Action release in _releases)
        {
            release();
        }
        // Contexts first: disposing one completes its requests, which can then be disposed too.
        foreach (IDisposable owned in Enumerable.Reverse(_owned).Where(o => o is AioContext))
        {
            owned.Dispose();
        }
        foreach (IDisposable owned in Enumerable.Reverse(_owned).Where(o => o is not AioContext))
        {
            owned.Dispose();
        }
        IReadOnlyList<string> leaked = OpenDescriptorsInDirectory();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        GC.SuppressFinalize(this);
        Assert.True(leaked.Count == 0, "File descriptors leaked: " + string.Join(", ", leaked));
    }
}
