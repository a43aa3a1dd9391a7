using System.Text;

namespace FileAio.Cli.Platform;

/// <summary>Which mount holds a path, from <c>/proc/self/mountinfo</c> (the longest mount point that is a prefix of the
/// canonical path): its file system type, source device and options.</summary>
internal static class MountTable
{
    internal sealed record Mount(string MountPoint, string FileSystem, string Source, string Options)
    {
        /// <summary>A FUSE file system: "fuse", "fuseblk" or "fuse.SUBTYPE" (sshfs, rclone, ntfs-3g…), or virtiofs,
        /// which is FUSE underneath. Shown by <c>info</c>; which engine a file needs is for
        /// <see cref="AioFile.RecommendedEngine"/> to say.</summary>
        public bool IsFuse => FileSystem.StartsWith("fuse", StringComparison.Ordinal) || FileSystem == "virtiofs";
    }

    /// <summary>The mount holding <paramref name="canonicalPath"/>, or null where there is no mount table (not Linux).</summary>
    public static Mount? Find(string canonicalPath)
    {
        const string table = "/proc/self/mountinfo";
        if (!File.Exists(table))
        {
            return null;
        }
        Mount? best = null;
        foreach (string line in File.ReadLines(table))
        {
            Mount? mount = ParseLine(line);
            if (mount is not null && Contains(mount.MountPoint, canonicalPath) &&
                (best is null || mount.MountPoint.Length >= best.MountPoint.Length))
            {
                best = mount; // later lines mount over earlier ones at the same point
            }
        }
        return best;
    }

    /// <summary>"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" (proc(5)).</summary>
    internal static Mount? ParseLine(string line)
    {
        string[] fields = line.Split(' ');
        int separator = Array.IndexOf(fields, "-");
        if (fields.Length < 6 || separator < 6 || separator + 3 > fields.Length)
        {
            return null;
        }
        string options = fields[5];
        string superOptions = separator + 3 < fields.Length ? fields[separator + 3] : "";
        return new Mount(Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2]),
            superOptions.Length > 0 ? $"{options} ({superOptions})" : options);
    }

    private static bool Contains(string mountPoint, string path) =>
        mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);

    /// <summary>Mount points escape space, tab, newline and backslash as a backslash and three octal digits ("\040").</summary>
    private static string Unescape(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && IsOctal(text[i + 1]) && IsOctal(text[i + 2]) && IsOctal(text[i + 3]))
            {
                bytes.Add((byte)(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) | (text[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
