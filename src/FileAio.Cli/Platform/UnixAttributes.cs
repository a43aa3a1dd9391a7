using System.Runtime.InteropServices;

namespace FileAio.Cli.Platform;

/// <summary>A file's type and permission bits, owner, group, size, and access and modification times to the
/// nanosecond, as <c>statx</c> reports them (Linux).</summary>
/// <param name="Mode"><c>stx_mode</c>: the type (<see cref="Libc.S_IFMT"/>) and the permission, set-id and sticky bits.</param>
internal sealed record UnixAttributes(int Mode, uint Uid, uint Gid, long Size, Timespec Access, Timespec Modification)
{
    /// <summary>A regular file, not a FIFO, device or socket.</summary>
    public bool IsRegularFile => (Mode & Libc.S_IFMT) == Libc.S_IFREG;

    /// <summary>The bits <c>chmod</c> takes: permissions, set-id and sticky (07777).</summary>
    public int PermissionBits => Mode & 0xfff;

    /// <summary>Reads <paramref name="path"/>'s attributes, following symbolic links (as <c>cp -p</c> does for the file
    /// it copies). Throws <see cref="IoFailureException"/> with the errno when the kernel cannot say.</summary>
    public static unsafe UnixAttributes Read(string path)
    {
        StatxTimes stx;
        if (Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_STATX_SYNC_AS_STAT, Libc.STATX_BASIC_STATS, &stx) != 0)
        {
            throw IoFailureException.FromErrno("stat", path, Marshal.GetLastPInvokeError());
        }
        return new UnixAttributes(
            stx.Mode, stx.Uid, stx.Gid, (long)stx.Size,
            new Timespec { Seconds = stx.AccessSeconds, Nanoseconds = stx.AccessNanoseconds },
            new Timespec { Seconds = stx.ModifySeconds, Nanoseconds = stx.ModifyNanoseconds });
    }
}
