using System.Diagnostics;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>A tmpfs of a few hundred KiB mounted for one test, so that writes fail with a real ENOSPC (the approach of
/// FileAio.Tests' fault tests). Needs root; the test skips, saying so, otherwise.</summary>
internal sealed class SmallFileSystem : IDisposable
{
    private int _mounted = 1;

    public SmallFileSystem(string mountPoint, int kibibytes)
    {
        Assert.SkipUnless(IsRoot(), "Needs root (mount).");
        MountPoint = mountPoint;
        Directory.CreateDirectory(mountPoint);
        Assert.True(TryRun("mount", $"-t tmpfs -o size={kibibytes}k tmpfs {mountPoint}", out string error), error);
    }

    public string MountPoint { get; }

    /// <summary>What went wrong unmounting, or null. A test checks it after its own body, so that a busy mount is
    /// reported without hiding the body's failure, which is often what left a descriptor open on it.</summary>
    public string? UnmountProblem { get; private set; }

    /// <summary>Unmounts. A busy mount is detached lazily (<c>umount -l</c>) instead, so that it never outlives the test,
    /// and the busy unmount is recorded in <see cref="UnmountProblem"/>. Never throws.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _mounted, 0) == 0)
        {
            return;
        }
        if (TryRun("umount", MountPoint, out string error))
        {
            return;
        }
        UnmountProblem = error;
        if (!TryRun("umount", $"-l {MountPoint}", out string lazyError))
        {
            UnmountProblem += "; " + lazyError;
        }
    }

    private static bool IsRoot() => File.ReadAllLines("/proc/self/status")
        .FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries) is [_, "0", ..];

    private static bool TryRun(string tool, string arguments, out string error)
    {
        using Process process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true })!;
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        error = $"{tool} {arguments} failed (exit {process.ExitCode}): {stderr.Trim()}";
        return process.ExitCode == 0;
    }
}
