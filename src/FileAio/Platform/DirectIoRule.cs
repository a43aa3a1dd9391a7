using System.Diagnostics.CodeAnalysis;

namespace FileAio.Platform;

/// <summary>The direct I/O alignment rules, checked in one place so that every API names the broken rule the same
/// way instead of letting the kernel answer a bare EINVAL.</summary>
internal static class DirectIoRule
{
    public static void CheckOffset(long offset, int offsetAlignment, string paramName)
    {
        if (offset % offsetAlignment != 0)
        {
            Throw($"Direct I/O rule: the file offset ({offset}) must be a multiple of {offsetAlignment}, the offset alignment of this file (see AioFile.GetAlignment).",
                paramName);
        }
    }

    public static void CheckLength(int length, int lengthAlignment, string paramName)
    {
        if (length % lengthAlignment != 0)
        {
            Throw($"Direct I/O rule: each buffer's length ({length}) must be a multiple of {lengthAlignment}, the length alignment of this file (see AioFile.GetAlignment).",
                paramName);
        }
    }

    public static unsafe void CheckAddress(void* address, int memoryAlignment, string paramName)
    {
        if (memoryAlignment > 0 && (nuint)address % (nuint)memoryAlignment != 0)
        {
            Throw($"Direct I/O rule: each buffer's address must be a multiple of {memoryAlignment}, the memory alignment of this file; use an AlignedBuffer (see AioFile.GetAlignment).",
                paramName);
        }
    }

    [DoesNotReturn]
    private static void Throw(string message, string paramName) => throw new ArgumentException(message, paramName);
}
