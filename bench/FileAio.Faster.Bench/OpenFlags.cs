using System.Globalization;
using System.Text;

namespace FileAio.Faster.Bench;

/// <summary>How this process has the store's files open, from <c>/proc/self/fdinfo</c>: which descriptors bypass the
/// cache (O_DIRECT) and which write through (O_SYNC, O_DSYNC). The report says it from the kernel, not from what the
/// devices' documentation promises.</summary>
internal static class OpenFlags
{
    // Linux open flags (octal in fdinfo), x86-64 and arm64 values.
    private const int AccessMode = 3, WriteOnly = 1, ReadWrite = 2;
    private const int DSync = 0x1000;        // 010000
    private const int Direct = 0x4000;       // 040000 (x86-64)
    private const int SyncExtra = 0x100000;  // 04000000: __O_SYNC, which O_SYNC adds to O_DSYNC

    /// <summary>Each distinct set of flags among the descriptors open on files under <paramref name="directory"/>, with
    /// how many have it: "rdwr+direct x4, rdonly x4".</summary>
    public static string Describe(string directory)
    {
        string root = Path.GetFullPath(directory) + "/";
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string fdPath in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fdPath).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (target is null || !target.StartsWith(root, StringComparison.Ordinal))
            {
                continue;
            }
            int? flags = FlagsOf(Path.GetFileName(fdPath));
            if (flags is int f)
            {
                string name = Name(f);
                counts[name] = counts.GetValueOrDefault(name) + 1;
            }
        }
        var text = new StringBuilder();
        foreach ((string name, int count) in counts)
        {
            text.Append(text.Length == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"{name} x{count}");
        }
        return text.Length == 0 ? "none open" : text.ToString();
    }

    private static int? FlagsOf(string fd)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
            {
                if (line.StartsWith("flags:", StringComparison.Ordinal))
                {
                    return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
                }
            }
        }
        catch (IOException)
        {
            // closed meanwhile
        }
        return null;
    }

    private static string Name(int flags)
    {
        var name = new StringBuilder((flags & AccessMode) switch { WriteOnly => "wronly", ReadWrite => "rdwr", _ => "rdonly" });
        if ((flags & Direct) != 0)
        {
            name.Append("+direct");
        }
        if ((flags & DSync) != 0)
        {
            name.Append((flags & SyncExtra) != 0 ? "+sync" : "+dsync");
        }
        return name.ToString();
    }
}
