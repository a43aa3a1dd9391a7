namespace FileAio.Cli.Platform;

/// <summary>The host limits that decide what the engines can do, read from <c>/proc</c> (Linux). Each reader returns
/// null where the file does not exist, so <c>info</c> prints only what this system has.</summary>
internal static class SystemLimits
{
    /// <summary>The kernel release (<c>uname -r</c>).</summary>
    public static string? KernelRelease => ReadTrimmed("/proc/sys/kernel/osrelease");

    /// <summary><c>kernel.io_uring_disabled</c> (Linux 6.6+): 0 allowed, 1 only for <c>kernel.io_uring_group</c>, 2 off.</summary>
    public static string? IoUringDisabled => ReadTrimmed("/proc/sys/kernel/io_uring_disabled");

    public static string? IoUringGroup => ReadTrimmed("/proc/sys/kernel/io_uring_group");

    /// <summary><c>fs.aio-max-nr</c>: the system-wide cap on Linux native AIO events (the linux-aio engine).</summary>
    public static string? AioMaxNr => ReadTrimmed("/proc/sys/fs/aio-max-nr");

    public static string? AioNr => ReadTrimmed("/proc/sys/fs/aio-nr");

    /// <summary>One row of <c>/proc/self/limits</c> ("Max locked memory"): soft and hard, as written there.</summary>
    public static (string Soft, string Hard)? ProcessLimit(string name)
    {
        const string path = "/proc/self/limits";
        if (!File.Exists(path))
        {
            return null;
        }
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                string[] parts = line[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2)
                {
                    return (parts[0], parts[1]);
                }
            }
        }
        return null;
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
