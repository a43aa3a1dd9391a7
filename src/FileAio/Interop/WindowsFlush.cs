using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Interop;

/// <summary>kernel32's <c>FlushFileBuffers</c>: the Windows counterpart of <c>fsync</c>.</summary>
internal static partial class WindowsFlush
{
    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool FlushFileBuffers(SafeFileHandle file);
}
