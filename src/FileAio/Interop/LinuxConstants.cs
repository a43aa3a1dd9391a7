using System.Runtime.InteropServices;

namespace FileAio.Interop;

/// <summary>Linux flag and request values (from the kernel's uapi headers).</summary>
internal static class LinuxConstants
{
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;

    /// <summary><c>sizeof(struct statfs)</c> on 64-bit Linux (x64 and arm64: eleven 8-byte fields and four spares);
    /// 32-bit ABIs have a smaller one.</summary>
    public const int StatFsSize = 120;

    /// <summary><c>FUSE_SUPER_MAGIC</c>, <c>f_type</c> of a FUSE file system.</summary>
    public const long FUSE_SUPER_MAGIC = 0x65735546;

    /// <summary><c>O_DIRECT</c> differs by architecture: 0x4000 on x86/x64, 0x10000 on arm/arm64.</summary>
    public static int O_DIRECT => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm
        ? 0x10000
        : 0x4000;

    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const uint STATX_DIOALIGN = 0x2000;

    public const int S_IFMT = 0xf000;
    public const int S_IFREG = 0x8000;
    public const int S_IFBLK = 0x6000;
    public const int S_IFIFO = 0x1000;
    public const int S_IFSOCK = 0xc000;
    public const int S_IFCHR = 0x2000;

    /// <summary><c>RWF_NOWAIT</c> (Linux 4.14+ for buffered reads): fail with EAGAIN rather than wait for the device
    /// or a lock; a read returns what the page cache already holds, perhaps short.</summary>
    public const int RWF_NOWAIT = 0x8;

    // open(2) flags, the same on x86-64 and arm64.
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    /// <summary>Largest number of buffers one vectored call takes (<c>IOV_MAX</c> / <c>UIO_MAXIOV</c>).</summary>
    public const int IOV_MAX = 1024;
}
