using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Platform;

/// <summary>
/// What a request needs to know about its file before it is submitted: whether the file is open for direct I/O,
/// and if so the alignment that imposes. Learned once per handle (one <c>fcntl</c>, plus one <c>statx</c> for a direct
/// file) and remembered for the handle's life.
/// </summary>
/// <remarks>A handle whose O_DIRECT flag is changed with <c>fcntl(F_SETFL)</c> after FileAio first saw it keeps the
/// answer of that first look; open direct files with <see cref="AioFile.OpenHandle"/> instead.</remarks>
internal readonly record struct FileIoInfo(bool IsDirect, AioAlignment Alignment)
{
    private static readonly ConditionalWeakTable<SafeFileHandle, StrongBox<FileIoInfo>> s_cache = new();

    public static FileIoInfo Of(SafeFileHandle file)
    {
        if (s_cache.TryGetValue(file, out StrongBox<FileIoInfo>? known))
        {
            return known.Value;
        }
        bool direct = DirectIo.IsEnabled(file);
        var info = new FileIoInfo(direct, direct ? FileAlignment.Get(file) : default);
        s_cache.AddOrUpdate(file, new StrongBox<FileIoInfo>(info));
        return info;
    }

    /// <summary>Records what FileAio itself just set on a handle, so the first request need not ask the kernel.</summary>
    public static void Remember(SafeFileHandle file, FileIoInfo info) =>
        s_cache.AddOrUpdate(file, new StrongBox<FileIoInfo>(info));
}
