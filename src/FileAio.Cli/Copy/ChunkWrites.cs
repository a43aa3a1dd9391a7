using FileAio.Cli.Pipeline;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Copy;

/// <summary>The steps both ways of copying share: finishing a chunk's write (short writes continue where they stopped)
/// and the O_DIRECT arithmetic.</summary>
internal static class ChunkWrites
{
    /// <summary>Handles a completed write of <paramref name="slot"/>'s chunk, <paramref name="span"/> bytes from
    /// <see cref="PipelineSlot.Offset"/>: returns true when it had to prepare a write of the rest (a short write),
    /// false when the chunk is written. Errors name <paramref name="path"/>, the file the user asked for (not the
    /// temporary file the copy is written to).</summary>
    public static bool Continue(PipelineSlot slot, SafeFileHandle file, string path, int span, int alignment)
    {
        AioRequest request = slot.Request;
        if (request.Status != AioStatus.Success)
        {
            throw IoFailureException.FromErrno("write", path, request.ErrorCode, slot.Offset + slot.Done);
        }
        if (request.BytesTransferred == 0)
        {
            throw IoFailureException.FromErrno("write", path, ErrnoText.EIO, slot.Offset + slot.Done);
        }
        slot.Done += (int)request.BytesTransferred;
        if (slot.Done >= span)
        {
            return false;
        }
        // A short write: write the rest (aligned under O_DIRECT, or the kernel would not have stopped there).
        RequireAligned(slot.Done, alignment, "write", path, slot.Offset);
        slot.Request.PrepareWrite(file, slot.Offset + slot.Done, slot.Buffer.Memory[slot.Done..span], slot);
        return true;
    }

    public static void RequireAligned(int done, int alignment, string operation, string path, long offset)
    {
        if (done % alignment != 0)
        {
            throw new IoFailureException($"{operation} {path} at offset {offset} failed: the kernel transferred {done} bytes, not a multiple of the O_DIRECT alignment {alignment}, and the rest cannot be requested")
            {
                Errno = ErrnoText.EIO,
                Path = path,
            };
        }
    }

    public static int RoundUp(int value, int alignment) => (value + alignment - 1) / alignment * alignment;

    public static long RoundUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
