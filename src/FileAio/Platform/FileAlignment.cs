using System.Globalization;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Platform;

/// <summary>Finds the alignment direct I/O needs on a file: <c>statx(STATX_DIOALIGN)</c> first (Linux 6.1+), then the
/// logical block size of the device from sysfs, then a safe default of 4096.</summary>
internal static class FileAlignment
{
    /// <summary>Assumed when nothing can be learned: a multiple of every logical block size in common use (512, 4096).</summary>
    private const int DefaultAlignment = 4096;

    /// <summary>What is assumed when the kernel tells nothing.</summary>
    public static DirectIoAlignment Unknown => new(DefaultAlignment, DefaultAlignment, true, AlignmentSource.Default);

    public static unsafe DirectIoAlignment Get(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Unknown;
        }
        Statx stx;
        if (Libc.Statx(file, "", LinuxConstants.AT_EMPTY_PATH, LinuxConstants.STATX_BASIC_STATS | LinuxConstants.STATX_DIOALIGN, &stx) != 0)
        {
            return Unknown;
        }
        return From(in stx);
    }

    /// <summary>The alignment from a <c>statx</c> answer asked with <c>STATX_DIOALIGN</c>.</summary>
    public static DirectIoAlignment From(in Statx stx)
    {
        if ((stx.Mask & LinuxConstants.STATX_DIOALIGN) != 0)
        {
            // The kernel answers 0/0 for a file that cannot do direct I/O at all.
            return stx.DioMemAlign == 0 || stx.DioOffsetAlign == 0
                ? new DirectIoAlignment(DefaultAlignment, DefaultAlignment, false, AlignmentSource.Statx)
                : new DirectIoAlignment((int)stx.DioMemAlign, (int)stx.DioOffsetAlign, true, AlignmentSource.Statx);
        }

        int blockSize = LogicalBlockSize(stx.DevMajor, stx.DevMinor);
        return blockSize > 0 ? new DirectIoAlignment(blockSize, blockSize, true, AlignmentSource.LogicalBlockSize) : Unknown;
    }

    /// <summary>The logical block size of block device MAJ:MIN, from <c>/sys/dev/block</c>; a partition keeps its
    /// queue limits in its parent disk's folder. 0 when unknown (a virtual file system has no block device).</summary>
    private static int LogicalBlockSize(uint major, uint minor)
    {
        string device = $"/sys/dev/block/{major}:{minor}";
        foreach (string candidate in new[] { device + "/queue/logical_block_size", device + "/../queue/logical_block_size" })
        {
            try
            {
                if (File.Exists(candidate)
                    && int.TryParse(File.ReadAllText(candidate).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int size)
                    && size > 0)
                {
                    return size;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return 0;
    }
}
