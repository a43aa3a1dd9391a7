using FileAio.Buffers;

namespace FileAio.Cli.Pipeline;

/// <summary>One lane of an <see cref="AioPipeline"/>: a request, its buffer(s), and the state of the unit of work the
/// lane is carrying (which chunk, how far along). The pipeline's owner gives the fields their meaning.</summary>
internal sealed class PipelineSlot : IDisposable
{
    public PipelineSlot(int index, int bufferSize, int alignment, bool secondBuffer)
    {
        Index = index;
        Buffer = new AlignedBuffer(bufferSize, alignment);
        Second = secondBuffer ? new AlignedBuffer(bufferSize, alignment) : null;
    }

    public int Index { get; }

    public AioRequest Request { get; } = new();

    public AlignedBuffer Buffer { get; }

    /// <summary>A second buffer, for work that holds two blocks at once (comparing two files).</summary>
    public AlignedBuffer? Second { get; }

    /// <summary>The chunk's file offset.</summary>
    public long Offset { get; set; }

    /// <summary>The chunk's length in bytes (its real length, before any rounding for O_DIRECT).</summary>
    public int Length { get; set; }

    /// <summary>Bytes of the current step already done (a short transfer continues from here).</summary>
    public int Done { get; set; }

    /// <summary>The step the slot is in; the owner's own numbering.</summary>
    public int Stage { get; set; }

    public void Dispose()
    {
        Request.Dispose();
        Buffer.Dispose();
        Second?.Dispose();
    }
}
