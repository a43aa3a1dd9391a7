using System.Runtime.InteropServices;

namespace FileAio.Interop;

/// <summary><c>struct iovec</c>: one buffer of a vectored transfer (16 bytes on 64-bit Linux).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}
