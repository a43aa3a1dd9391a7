namespace FileAio;

/// <summary>Where an <see cref="AioAlignment"/> came from.</summary>
public enum AioAlignmentSource
{
    /// <summary>The kernel said so for this very file (<c>statx</c> with <c>STATX_DIOALIGN</c>, Linux 6.1+).</summary>
    Statx = 0,

    /// <summary>The logical block size of the device holding the file (older kernels, or file systems that do not
    /// answer <c>STATX_DIOALIGN</c>).</summary>
    LogicalBlockSize = 1,

    /// <summary>Nothing could be learned; 4096 is assumed, which every common device accepts.</summary>
    Default = 2,
}

/// <summary>
/// The alignment direct (O_DIRECT) I/O needs on one file: the buffer's address must be a multiple of
/// <see cref="MemoryAlignment"/>, and the file offset and the length of each buffer a multiple of
/// <see cref="OffsetAlignment"/>.
/// </summary>
/// <param name="MemoryAlignment">Required alignment of a buffer's address, in bytes.</param>
/// <param name="OffsetAlignment">Required alignment of the file offset and of every buffer's length, in bytes.</param>
/// <param name="SupportsDirectIo">False when the kernel reports that this file cannot be used with direct I/O at all.</param>
/// <param name="Source">Where the numbers came from.</param>
public readonly record struct AioAlignment(int MemoryAlignment, int OffsetAlignment, bool SupportsDirectIo, AioAlignmentSource Source)
{
    /// <summary>Required alignment of every buffer's length: the same as <see cref="OffsetAlignment"/>.</summary>
    public int LengthAlignment => OffsetAlignment;
}
