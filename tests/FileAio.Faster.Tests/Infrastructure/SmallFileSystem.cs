using System.Diagnostics;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>A tmpfs of a few hundred KiB mounted for one test, so that writes fail with a real ENOSPC (the approach of
/// FileAio.Tests' fault tests). Needs root; the test skips, saying so, otherwise.</summary>
internal sealed class SmallFileSystem : IDisposable
{
    public SmallFileSystem(string mountPoint, int kibibytes)
    {
        Assert.SkipUnless(IsRoot(), "Needs root (mount).");
        MountPoint = mountPoint;
        Directory.CreateDirectory(mountPoint);
        Run("mount", $"-t tmpfs -o size={kibibytes}k tmpfs {mountPoint}");
    }

    public string MountPoint { get; }

    public void Dispose() => Run("umount", MountPoint);

    private static bool IsRoot() => File.ReadAllLines("/proc/self/status")
        .FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries) is [_, "0", ..];

    private static void Run(string tool, string arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {arguments} failed: {error}");
    }
}
