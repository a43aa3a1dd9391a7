using System.Collections.Concurrent;

namespace FileAio.Buffers;

/// <summary>
/// A pool of equally sized <see cref="AlignedBuffer"/>s, so that direct I/O does not allocate native memory per
/// operation. Rent and Return from any thread.
/// </summary>
public sealed class AlignedBufferPool : IDisposable
{
    private readonly ConcurrentBag<AlignedBuffer> _available = [];
    private readonly int _maxRetained;
    private int _retained;
    private bool _disposed;

    /// <summary>Creates a pool of buffers of <paramref name="bufferSize"/> bytes at <paramref name="alignment"/>, keeping at
    /// most <paramref name="maxRetained"/> returned buffers for reuse (the rest are freed).</summary>
    public AlignedBufferPool(int bufferSize, int alignment = AlignedBuffer.DefaultAlignment, int maxRetained = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        // AlignedBuffer checks the alignment; fail here, at construction, rather than at the first Rent.
        new AlignedBuffer(1, alignment).Dispose();
        BufferSize = bufferSize;
        Alignment = alignment;
        _maxRetained = maxRetained;
    }

    /// <summary>The size of every buffer this pool hands out.</summary>
    public int BufferSize { get; }

    /// <summary>The alignment of every buffer this pool hands out.</summary>
    public int Alignment { get; }

    /// <summary>A buffer of <see cref="BufferSize"/> bytes: a returned one when available (its old contents kept), else a
    /// new zeroed one.</summary>
    public AlignedBuffer Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (_available.TryTake(out AlignedBuffer? buffer))
        {
            Interlocked.Decrement(ref _retained);
            return buffer;
        }
        return new AlignedBuffer(BufferSize, Alignment);
    }

    /// <summary>Gives a buffer back. It must come from this pool and must not be in use by a Submitted request.</summary>
    /// <exception cref="ArgumentException">The buffer is not this pool's size or alignment, or was disposed.</exception>
    public void Return(AlignedBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length != BufferSize || buffer.Alignment != Alignment || buffer.IsDisposed)
        {
            throw new ArgumentException("Only live buffers rented from this pool can be returned to it.", nameof(buffer));
        }
        if (Volatile.Read(ref _disposed) || Interlocked.Increment(ref _retained) > _maxRetained)
        {
            if (!Volatile.Read(ref _disposed))
            {
                Interlocked.Decrement(ref _retained);
            }
            buffer.Dispose();
            return;
        }
        _available.Add(buffer);
    }

    /// <summary>Frees the retained buffers. Buffers still rented stay valid until their renters dispose them.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        while (_available.TryTake(out AlignedBuffer? buffer))
        {
            buffer.Dispose();
        }
    }
}
