using System.Buffers;

namespace FileAio.Faster;

/// <summary>
/// A <see cref="Memory{T}"/> over native memory that FASTER owns (its sector-aligned page and record buffers), pointed
/// at a new region for every I/O. FileAio takes <see cref="Memory{T}"/>; wrapping FASTER's pointer in a fresh
/// <see cref="MemoryManager{T}"/> per I/O (as FASTER's managed device does) would allocate, so each pooled
/// <see cref="DeviceIo"/> keeps one of these and re-aims it.
/// </summary>
/// <remarks>Owned by one <see cref="DeviceIo"/>: set before the I/O is issued, cleared only after FileAio has given the
/// I/O back (its pin released, the kernel done with the memory). Pinning is free: the memory is native and FASTER keeps it
/// alive until the completion callback.</remarks>
internal sealed unsafe class NativeRegion : MemoryManager<byte>
{
    private byte* _pointer;
    private int _length;

    public void Set(IntPtr pointer, int length)
    {
        _pointer = (byte*)pointer;
        _length = length;
    }

    public void Clear()
    {
        _pointer = null;
        _length = 0;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
        // Nothing to release: the memory is native and FASTER's.
    }

    protected override void Dispose(bool disposing)
    {
        // Nothing to free: FASTER owns the memory.
    }
}
