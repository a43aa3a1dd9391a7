namespace FileAio.Bench;

/// <summary>The data file every run reads (fio reads the same one, so both see the same extents).</summary>
internal static class BenchFile
{
    /// <summary>Creates <paramref name="path"/>, or rewrites it when it is shorter than <paramref name="size"/>, with
    /// non-zero data, then fsyncs it. Non-zero so the file system allocates real extents (no holes, which reads would
    /// answer without touching the device).</summary>
    public static void EnsureFilled(string path, long size)
    {
        var info = new FileInfo(path);
        if (info.Exists && info.Length >= size)
        {
            return;
        }
        Console.Error.WriteLine($"creating {path} ({size >> 20} MiB)...");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        byte[] chunk = new byte[1 << 20];
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        for (long written = 0; written < size; written += chunk.Length)
        {
            // Vary the pattern per chunk so no layer below can deduplicate or compress the file away.
            for (int i = 0; i < chunk.Length; i++)
            {
                chunk[i] = (byte)(((written >> 20) + i) | 1);
            }
            stream.Write(chunk, 0, (int)Math.Min(chunk.Length, size - written));
        }
        stream.Flush(flushToDisk: true); // fsync
    }
}
