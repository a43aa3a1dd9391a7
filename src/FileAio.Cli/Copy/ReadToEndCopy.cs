using FileAio.Cli.Pipeline;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Copy;

/// <summary>
/// Copies a source whose size is not known before it is read (<see cref="SourceSize"/>: procfs and sysfs files, which
/// report 0 or 4096 bytes whatever they hold, and anything else reporting 0), as cp does: reads until the kernel says
/// end of file. One read at a time, in order, because such files are generated as they are read and answer a read
/// at an offset by continuing from the last one; each chunk is filled up to the block size (reads of such files come
/// back short) and then written, and the next read starts when it is written.
/// </summary>
internal static class ReadToEndCopy
{
    private const int StageRead = 0;
    private const int StageWrite = 1;

    /// <summary>Runs the copy through <paramref name="pipeline"/> (one slot) and returns the bytes copied. The
    /// destination's last block is padded to <paramref name="alignment"/> under O_DIRECT: the caller truncates it to
    /// the returned length.</summary>
    public static long Run(
        AioPipeline pipeline, SafeFileHandle source, string sourcePath, SafeFileHandle destination, string destinationPath,
        int blockSize, int alignment, ProgressReporter bar, CancellationToken cancellationToken)
    {
        long copied = 0;
        bool ended = false;

        bool Start(PipelineSlot slot)
        {
            if (ended)
            {
                return false;
            }
            slot.Offset = copied;
            slot.Length = 0; // grows as reads come back, up to blockSize
            slot.Done = 0;
            slot.Stage = StageRead;
            slot.Request.PrepareRead(source, slot.Offset, slot.Buffer.Memory[..blockSize], slot);
            return true;
        }

        bool Complete(PipelineSlot slot)
        {
            if (slot.Stage == StageWrite)
            {
                int written = ChunkWrites.RoundUp(slot.Length, alignment);
                if (ChunkWrites.Continue(slot, destination, destinationPath, written, alignment))
                {
                    return true;
                }
                copied += slot.Length;
                bar.Advance(slot.Length);
                return false;
            }

            AioRequest request = slot.Request;
            if (request.Status != AioStatus.Success)
            {
                throw IoFailureException.FromErrno("read", sourcePath, request.ErrorCode, slot.Offset + slot.Length);
            }
            int read = (int)request.BytesTransferred;
            slot.Length += read;
            ended = read == 0;
            if (!ended && slot.Length < blockSize)
            {
                slot.Request.PrepareRead(source, slot.Offset + slot.Length, slot.Buffer.Memory[slot.Length..blockSize], slot);
                return true;
            }
            if (slot.Length == 0)
            {
                return false; // the end of the file fell on a chunk boundary: nothing left to write
            }
            // Under O_DIRECT the tail block is padded with zeros up to the alignment (the caller's truncate cuts them).
            int span = ChunkWrites.RoundUp(slot.Length, alignment);
            slot.Buffer.GetSpan()[slot.Length..span].Clear();
            slot.Stage = StageWrite;
            slot.Request.PrepareWrite(destination, slot.Offset, slot.Buffer.Memory[..span], slot);
            return true;
        }

        pipeline.Run(Start, Complete, cancellationToken);
        return copied;
    }
}
