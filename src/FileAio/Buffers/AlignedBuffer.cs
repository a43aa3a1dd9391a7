using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace FileAio.Buffers;

/// <summary>
/// Native memory aligned for direct I/O (<see cref="NativeMemory.AlignedAlloc"/>), exposed as
/// <see cref="Memory{T}"/> through <see cref="MemoryManager{T}"/>. The memory starts zeroed.
/// </summary>
/// <remarks>
/// The memory is freed once the buffer is disposed <em>and</em> every pin taken on it (a Submitted request holds one)
/// has been released: disposing a buffer the kernel is still writing into cannot free it under the kernel's feet.
/// Pinning a disposed buffer throws <see cref="ObjectDisposedException"/>. Thread-safe.
/// There is deliberately no finalizer (CA2015): a <see cref="Span{T}"/> over the memory does not keep the buffer
/// reachable, so a finalizer could free memory still in use. Dispose every buffer.
/// </remarks>
public sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    /// <summary>The alignment used when none is given: one page, enough for every direct I/O rule in common use.</summary>
    public const int DefaultAlignment = 4096;

    private readonly byte* _pointer;
    // One reference for the owner (dropped by Dispose) plus one per pin; the memory is freed when it reaches 0.
    private int _references = 1;
    private int _disposed;

    /// <summary>Allocates <paramref name="length"/> zeroed bytes at an address that is a multiple of <paramref name="alignment"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a positive power of two.</exception>
    public AlignedBuffer(int length, int alignment = DefaultAlignment)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (alignment <= 0 || !BitOperations.IsPow2(alignment))
        {
            throw new ArgumentException($"The alignment must be a positive power of two; {alignment} is not.", nameof(alignment));
        }
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
        NativeMemory.Clear(_pointer, (nuint)length);
        Length = length;
        Alignment = alignment;
    }

    /// <summary>Size in bytes.</summary>
    public int Length { get; }

    /// <summary>The alignment of <see cref="Address"/>.</summary>
    public int Alignment { get; }

    /// <summary>The first byte's address. Valid until the buffer is disposed and unpinned.</summary>
    public nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return (nint)_pointer;
        }
    }

    /// <summary>Whether <see cref="IDisposable.Dispose"/> was called (the memory may still be alive while pinned).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new Span<byte>(_pointer, Length);
    }

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, Length);
        while (true)
        {
            int references = Volatile.Read(ref _references);
            if (references == 0 || Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(AlignedBuffer), "The aligned buffer was disposed; it cannot be pinned for new I/O.");
            }
            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references)
            {
                return new MemoryHandle(_pointer + elementIndex, default, this);
            }
        }
    }

    /// <inheritdoc/>
    public override void Unpin() => Release();

    /// <summary>Gives the buffer up. The memory is freed now, or when the last pin is released if a request still
    /// holds one. Idempotent.</summary>
    public void Dispose() => ((IDisposable)this).Dispose();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            NativeMemory.AlignedFree(_pointer);
        }
    }
}
