using System.Runtime.CompilerServices;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Platform;

/// <summary>
/// What FileAio needs to know about a file before it submits work on it: its <see cref="FileTraits"/> and, for a
/// direct file, the alignment that imposes. Learned once per handle (one <c>statx</c>, one <c>fcntl</c>, one
/// <c>fstatfs</c>) and remembered for the handle's life.
/// </summary>
/// <remarks>A handle whose O_DIRECT flag is changed with <c>fcntl(F_SETFL)</c> after FileAio first saw it keeps the
/// answer of that first look; open direct files with FileAio's own <c>OpenHandle</c> instead.</remarks>
internal sealed record FileFacts(FileTraits Traits, DirectIoAlignment Alignment)
{
    private static readonly ConditionalWeakTable<SafeFileHandle, FileFacts> s_cache = new();

    public bool IsDirect => (Traits & FileTraits.Direct) != 0;

    public static FileFacts Of(SafeFileHandle file)
    {
        if (s_cache.TryGetValue(file, out FileFacts? known))
        {
            return known;
        }
        FileFacts facts = Learn(file);
        s_cache.AddOrUpdate(file, facts);
        return facts;
    }

    /// <summary>Records what FileAio itself just set on a handle (O_DIRECT, with the alignment it just read), so the
    /// first operation need not ask the kernel again.</summary>
    public static void RememberDirect(SafeFileHandle file, DirectIoAlignment alignment) =>
        s_cache.AddOrUpdate(file, Learn(file, knownDirect: true) with { Alignment = alignment });

    private static unsafe FileFacts Learn(SafeFileHandle file, bool knownDirect = false)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new FileFacts(FileTraits.None, FileAlignment.Unknown);
        }
        FileTraits traits = FileTraits.None;
        if (knownDirect || DirectIo.IsEnabled(file))
        {
            traits |= FileTraits.Direct;
        }
        if (FuseFiles.IsOnFuse(file))
        {
            traits |= FileTraits.OnFuse;
        }
        Statx stx;
        bool described = Libc.Statx(file, "", LinuxConstants.AT_EMPTY_PATH,
            LinuxConstants.STATX_BASIC_STATS | LinuxConstants.STATX_DIOALIGN, &stx) == 0;
        if (described && (stx.Mode & LinuxConstants.S_IFMT) is LinuxConstants.S_IFIFO or LinuxConstants.S_IFSOCK or LinuxConstants.S_IFCHR)
        {
            traits |= FileTraits.Pollable;
            if ((stx.Mode & LinuxConstants.S_IFMT) == LinuxConstants.S_IFIFO)
            {
                traits |= FileTraits.Fifo;
            }
        }
        DirectIoAlignment alignment = (traits & FileTraits.Direct) == 0 ? default
            : described ? FileAlignment.From(in stx) : FileAlignment.Unknown;
        return new FileFacts(traits, alignment);
    }
}
