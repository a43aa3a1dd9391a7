namespace FileAio.Platform;

/// <summary>Where a file's direct I/O alignment was learned. The values match the public
/// <c>AioAlignmentSource</c> one for one (a test holds them together); the platform layer keeps its own so that it
/// depends on nothing above it.</summary>
internal enum AlignmentSource
{
    Statx = 0,
    LogicalBlockSize = 1,
    Default = 2,
}

/// <summary>The alignment direct I/O needs on one file, as the kernel reports it: buffer addresses must be multiples
/// of <paramref name="Memory"/>, file offsets and buffer lengths multiples of <paramref name="Offset"/>.</summary>
/// <param name="Memory">Required alignment of a buffer's address, in bytes.</param>
/// <param name="Offset">Required alignment of the file offset and of every buffer's length, in bytes.</param>
/// <param name="Supported">False when the kernel says the file cannot do direct I/O at all.</param>
/// <param name="Source">Where the numbers came from.</param>
internal readonly record struct DirectIoAlignment(int Memory, int Offset, bool Supported, AlignmentSource Source);
