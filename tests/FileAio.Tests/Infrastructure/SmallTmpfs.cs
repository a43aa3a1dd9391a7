using System.Diagnostics;

namespace FileAio.Tests.Infrastructure;

/// <summary>A tmpfs of a few pages mounted for one test (needs root): real ENOSPC once it is full. Unmounted on
/// Dispose.</summary>
internal sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string mountPoint) => MountPoint = mountPoint;

    public string MountPoint { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> bytes (a multiple of the page size) at
    /// <paramref name="mountPoint"/>, creating the directory.</summary>
    public static SmallTmpfs Mount(string mountPoint, int size)
    {
        Directory.CreateDirectory(mountPoint);
        RunTool("mount", $"-t tmpfs -o size={size} tmpfs {mountPoint}");
        return new SmallTmpfs(mountPoint);
    }

    public string PathOf(string name) => Path.Combine(MountPoint, name);

    public void Dispose() => RunTool("umount", MountPoint);

    private static void RunTool(string tool, string arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {arguments} failed: {error}");
    }
}
