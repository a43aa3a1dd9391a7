using FileAio.Buffers;

namespace FileAio.Tests.Buffers;

public sealed class AlignedBufferTests
{
    [Theory]
    [InlineData(1, 512)]
    [InlineData(4096, 4096)]
    [InlineData(100_000, 65536)]
    public void New_IsAlignedZeroedAndOfTheRightLength(int length, int alignment)
    {
        using var buffer = new AlignedBuffer(length, alignment);
        Assert.Equal(0, buffer.Address % alignment);
        Assert.Equal(length, buffer.Length);
        Assert.Equal(alignment, buffer.Alignment);
        Assert.Equal(length, buffer.Memory.Length);
        Assert.True(buffer.Memory.Span.IndexOfAnyExcept((byte)0) < 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-4096)]
    [InlineData(4097)]
    public void New_AlignmentNotAPowerOfTwo_ThrowsArgumentException(int alignment)
    {
        var e = Assert.Throws<ArgumentException>(() => new AlignedBuffer(16, alignment));
        Assert.Contains("power of two", e.Message);
    }

    [Fact]
    public void New_NonPositiveLength_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer(0));
    }

    [Fact]
    public unsafe void Dispose_WhilePinned_KeepsTheMemoryUntilTheLastPinIsReleased()
    {
        var buffer = new AlignedBuffer(4096);
        var pin = buffer.Memory.Pin();
        buffer.Dispose();
        Assert.True(buffer.IsDisposed);

        // The pin holder (a Submitted request, say) may still use the memory; the allocator must not have it back.
        var bytes = new Span<byte>(pin.Pointer, 4096);
        bytes.Fill(0x5A);
        Assert.Equal(0x5A, bytes[4095]);

        Assert.Throws<ObjectDisposedException>(() => buffer.Memory.Pin());
        Assert.Throws<ObjectDisposedException>(() => buffer.Memory.Span.Length);
        pin.Dispose(); // frees now
        buffer.Dispose(); // idempotent
    }

    [Fact]
    public void Pool_ReusesReturnedBuffers_AndChecksWhatComesBack()
    {
        using var pool = new AlignedBufferPool(8192, 4096, maxRetained: 1);
        AlignedBuffer first = pool.Rent();
        Assert.Equal(8192, first.Length);
        Assert.Equal(0, first.Address % 4096);
        pool.Return(first);
        Assert.Same(first, pool.Rent());

        using var stranger = new AlignedBuffer(4096);
        Assert.Throws<ArgumentException>(() => pool.Return(stranger));

        AlignedBuffer second = pool.Rent();
        pool.Return(first);
        pool.Return(second); // over maxRetained: freed, not kept
        Assert.True(second.IsDisposed);
        Assert.False(first.IsDisposed);
    }

    [Fact]
    public void Pool_AfterDispose_RefusesToRent_AndFreesWhatItHeld()
    {
        var pool = new AlignedBufferPool(4096);
        AlignedBuffer buffer = pool.Rent();
        pool.Return(buffer);
        pool.Dispose();
        Assert.True(buffer.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }

    [Fact]
    public void Pool_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBufferPool(0));
        Assert.Throws<ArgumentException>(() => new AlignedBufferPool(4096, alignment: 100));
    }
}
