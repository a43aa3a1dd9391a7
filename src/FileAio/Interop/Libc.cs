using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Interop;

/// <summary>
/// libc entry points used by the engines and the file helpers. Declarations only: no policy lives here.
/// Every call sets the last P/Invoke error so callers read errno with <see cref="Marshal.GetLastPInvokeError"/>.
/// The I/O calls take a raw descriptor: they run for Submitted requests, whose handle reference is held by the
/// request's pins (so the descriptor cannot be closed and reused meanwhile).
/// </summary>
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    [LibraryImport(LibraryName, EntryPoint = "pread", SetLastError = true)]
    internal static partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(LibraryName, EntryPoint = "pwrite", SetLastError = true)]
    internal static partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(LibraryName, EntryPoint = "preadv", SetLastError = true)]
    internal static partial nint PReadV(int fd, IoVec* iov, int iovcnt, long offset);

    /// <summary><c>preadv2</c> (glibc 2.26+, Linux 4.6+): <c>preadv</c> with per-call flags such as
    /// <see cref="LinuxConstants.RWF_NOWAIT"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "preadv2", SetLastError = true)]
    internal static partial nint PReadV2(int fd, IoVec* iov, int iovcnt, long offset, int flags);

    /// <summary><c>readv</c>: for files without positions (FIFOs, sockets, character devices), where a positional
    /// call fails with ESPIPE.</summary>
    [LibraryImport(LibraryName, EntryPoint = "readv", SetLastError = true)]
    internal static partial nint ReadV(int fd, IoVec* iov, int iovcnt);

    [LibraryImport(LibraryName, EntryPoint = "writev", SetLastError = true)]
    internal static partial nint WriteV(int fd, IoVec* iov, int iovcnt);

    [LibraryImport(LibraryName, EntryPoint = "pwritev", SetLastError = true)]
    internal static partial nint PWriteV(int fd, IoVec* iov, int iovcnt, long offset);

    [LibraryImport(LibraryName, EntryPoint = "pwritev2", SetLastError = true)]
    internal static partial nint PWriteV2(int fd, IoVec* iov, int iovcnt, long offset, int flags);

    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    /// <summary><c>fstatfs</c> into a caller's buffer of at least <see cref="LinuxConstants.StatFsSize"/> bytes; the
    /// file system's magic number (<c>f_type</c>) is its first word.</summary>
    [LibraryImport(LibraryName, EntryPoint = "fstatfs", SetLastError = true)]
    internal static partial int FStatFs(SafeFileHandle fd, byte* buffer);

    [LibraryImport(LibraryName, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int FSync(int fd);

    [LibraryImport(LibraryName, EntryPoint = "fdatasync", SetLastError = true)]
    internal static partial int FDataSync(int fd);

    /// <summary><c>fcntl(fd, cmd, long arg)</c>: the variadic third argument is passed as a long, which is how the
    /// System V x86-64 and AAPCS64 ABIs pass an <c>int</c> argument in a register.</summary>
    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int FCntl(SafeFileHandle fd, int cmd, long arg);

    [LibraryImport(LibraryName, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(SafeFileHandle dirfd, string path, int flags, uint mask, Statx* buffer);

    [LibraryImport(LibraryName, EntryPoint = "getpid")]
    internal static partial int GetPid();
}
