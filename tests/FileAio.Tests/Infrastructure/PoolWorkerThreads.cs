namespace FileAio.Tests.Infrastructure;

/// <summary>
/// The thread-pool engine's worker threads ("FileAio pool worker N") in this process, read from /proc/self/task. Tests
/// count the ones that are not in a snapshot taken at their start: a process-wide host (the shared thread-pool host
/// that <see cref="AioFile.Open"/> picks for files on FUSE) keeps idle workers of its own for the life of the process.
/// </summary>
internal static class PoolWorkerThreads
{
    /// <summary>The thread ids of the pool workers alive now.</summary>
    public static HashSet<int> Snapshot()
    {
        var ids = new HashSet<int>();
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith("FileAio pool", StringComparison.Ordinal))
                {
                    ids.Add(int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
                // The thread exited while we looked.
            }
        }
        return ids;
    }

    /// <summary>How many pool workers are alive now that were not in <paramref name="before"/>.</summary>
    public static int CountNew(HashSet<int> before) => Snapshot().Count(id => !before.Contains(id));
}
