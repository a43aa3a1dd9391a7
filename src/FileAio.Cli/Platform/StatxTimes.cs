using System.Runtime.InteropServices;

namespace FileAio.Cli.Platform;

/// <summary>
/// <c>struct statx</c> from linux/stat.h (256 bytes, the same on every architecture), with the fields
/// <c>copy</c> keeps of its source named: owner, group, mode, size and the access and modification times. The
/// library's own declaration names other fields (alignment, device) and is internal to it; the offsets here are
/// pinned by a CLI test.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxTimes
{
    [FieldOffset(0x00)] public uint Mask;
    [FieldOffset(0x14)] public uint Uid;
    [FieldOffset(0x18)] public uint Gid;
    [FieldOffset(0x1c)] public ushort Mode;
    [FieldOffset(0x28)] public ulong Size;
    [FieldOffset(0x40)] public long AccessSeconds;        // stx_atime.tv_sec
    [FieldOffset(0x48)] public uint AccessNanoseconds;    // stx_atime.tv_nsec
    [FieldOffset(0x70)] public long ModifySeconds;        // stx_mtime.tv_sec
    [FieldOffset(0x78)] public uint ModifyNanoseconds;    // stx_mtime.tv_nsec
}
