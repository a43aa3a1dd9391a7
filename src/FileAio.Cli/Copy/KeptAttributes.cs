using System.Runtime.InteropServices;
using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Copy;

/// <summary>
/// What <c>copy</c> keeps of its source, by <c>cp -p</c>'s rules: the owner and group when permitted, the mode
/// (permission, set-id and sticky bits), and the access and modification times to the nanosecond. Applied through the
/// copy's own descriptor, after the data is written and verified (reading the copy could move its access time) and
/// before it takes the destination's name.
/// </summary>
internal static class KeptAttributes
{
    /// <summary>Gives <paramref name="copy"/> <paramref name="source"/>'s attributes, in cp's order: owner first (a
    /// change of owner clears the set-id bits), then the mode, then the times (the other two move only the change
    /// time). Returns whether the owner and group were kept: changing the owner needs root (CAP_CHOWN), and a user may
    /// give a file only a group they belong to. When they were not, the mode loses its set-user-ID and set-group-ID
    /// bits, as cp's does, so the copy never runs with privileges of someone else. Other failures throw
    /// <see cref="IoFailureException"/> naming <paramref name="destination"/>.</summary>
    public static unsafe bool Apply(UnixAttributes source, SafeFileHandle copy, string destination)
    {
        bool ownerKept = Libc.FChown(copy, source.Uid, source.Gid) == 0;
        if (!ownerKept)
        {
            // EPERM: not permitted; EINVAL: the owner has no number in this user namespace. cp -p goes on after both.
            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (ErrnoText.EPERM or ErrnoText.EINVAL))
            {
                throw IoFailureException.FromErrno("chown", destination, errno);
            }
            // Not root: the group alone, when the user belongs to it; else the copy stays the user's, as cp -p leaves it.
            _ = Libc.FChown(copy, uint.MaxValue, source.Gid);
        }

        int mode = ownerKept ? source.PermissionBits : source.PermissionBits & ~(Libc.S_ISUID | Libc.S_ISGID);
        if (Libc.FChmod(copy, (uint)mode) != 0)
        {
            throw IoFailureException.FromErrno("chmod", destination, Marshal.GetLastPInvokeError());
        }

        Timespec* times = stackalloc Timespec[2];
        times[0] = source.Access;
        times[1] = source.Modification;
        if (Libc.FUtimens(copy, times) != 0)
        {
            throw IoFailureException.FromErrno("set the times of", destination, Marshal.GetLastPInvokeError());
        }
        return ownerKept;
    }
}
