using System.Runtime.InteropServices;

namespace FileAio.Interop;

/// <summary>
/// <c>struct statx</c> from <c>linux/stat.h</c>, 256 bytes. Only the fields FileAio reads are named; the offsets
/// are the kernel ABI (checked by the ABI test).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct Statx
{
    [FieldOffset(0x00)] public uint Mask;
    [FieldOffset(0x04)] public uint BlockSize;
    [FieldOffset(0x1c)] public ushort Mode;
    [FieldOffset(0x28)] public ulong Size;
    [FieldOffset(0x88)] public uint DevMajor;
    [FieldOffset(0x8c)] public uint DevMinor;
    [FieldOffset(0x98)] public uint DioMemAlign;
    [FieldOffset(0x9c)] public uint DioOffsetAlign;
}
