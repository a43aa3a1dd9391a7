using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Model;

/// <summary>
/// The bytes of a file whose region is touched by at most one operation in flight at a time, so that what the file
/// holds is known exactly: a write's bytes are applied here only once the write is known to have happened, and a
/// read must return exactly what this holds. The file only grows (no truncation), which keeps the regions of
/// <see cref="RegionOf"/> valid for as long as their operations are in flight.
/// </summary>
internal sealed class ExpectedFile
{
    private byte[] _bytes;

    public ExpectedFile(int initialLength, int seed)
    {
        _bytes = new byte[Math.Max(initialLength, 4096)];
        for (int i = 0; i < initialLength; i++)
        {
            _bytes[i] = InitialByte(i, seed);
        }
        Length = initialLength;
        InitialContent = _bytes.AsSpan(0, initialLength).ToArray();
    }

    /// <summary>The file's length as the applied writes made it.</summary>
    public long Length { get; private set; }

    /// <summary>What the file held before the sequence began (written by the test, not by FileAio).</summary>
    public byte[] InitialContent { get; }

    /// <summary>Byte i of a fresh file: a pattern whose bytes differ from their neighbours, so a shifted or
    /// misplaced transfer shows.</summary>
    public static byte InitialByte(long position, int seed) => (byte)((position * 7 + seed) % 251);

    /// <summary>The bytes a write of <paramref name="length"/> bytes with fill <paramref name="fill"/> carries: none
    /// of them repeats its neighbour, and two fills differ in every byte.</summary>
    public static byte[] WriteData(byte fill, int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(fill + i * 13);
        }
        return data;
    }

    /// <summary>How many bytes a read of <paramref name="length"/> at <paramref name="offset"/> returns: up to the end
    /// of the file, 0 at or past it.</summary>
    public int ReadCount(long offset, int length) => (int)Math.Clamp(Length - offset, 0, length);

    public ReadOnlySpan<byte> Slice(long offset, int count) => count == 0 ? [] : _bytes.AsSpan((int)offset, count);

    /// <summary>Applies a write that happened (zero-filling any gap past the old end, as the kernel does).</summary>
    public void Apply(long offset, ReadOnlySpan<byte> data)
    {
        long end = offset + data.Length;
        if (end > _bytes.Length)
        {
            Array.Resize(ref _bytes, (int)Math.Max(end, _bytes.Length * 2L));
        }
        data.CopyTo(_bytes.AsSpan((int)offset));
        Length = Math.Max(Length, end);
    }

    /// <summary>
    /// What a transfer depends on or changes, judged now. A read that ends within the file touches its bytes; one that
    /// reaches past the end also depends on where the end is, so it reaches to infinity. A write that ends within the
    /// file changes its bytes; one past the end moves the end, so it changes everything from the old end on.
    /// </summary>
    public Region RegionOf(long offset, int length, bool write)
    {
        long end = offset + length;
        if (end <= Length)
        {
            return new Region(offset, end);
        }
        return new Region(write ? Math.Min(offset, Length) : offset, long.MaxValue);
    }

    /// <summary>Fails unless the file behind <paramref name="handle"/> holds exactly the expected bytes.</summary>
    public void Verify(SafeFileHandle handle, string when)
    {
        long actualLength = RandomAccess.GetLength(handle);
        var actual = new byte[actualLength];
        int read = RandomAccess.Read(handle, actual, 0);
        if (actualLength != Length || read != actualLength)
        {
            throw new ModelViolation($"{when}: the file is {actualLength} bytes long (read {read}), the model says {Length}.");
        }
        int differs = actual.AsSpan().CommonPrefixLength(Slice(0, (int)Length));
        if (differs < Length)
        {
            throw new ModelViolation($"{when}: the file's byte at {differs} is {actual[differs]}, the model says {_bytes[differs]}.");
        }
    }

    /// <summary>What the file holds at a region now, read by the test itself (not through FileAio).</summary>
    public static byte[] ReadBack(SafeFileHandle handle, long offset, int length)
    {
        var data = new byte[length];
        int read = RandomAccess.Read(handle, data, offset);
        return data.AsSpan(0, read).ToArray();
    }
}

/// <summary>Bytes [Start, End) of a file; End is <see cref="long.MaxValue"/> for "to the end, wherever it is".</summary>
internal readonly record struct Region(long Start, long End)
{
    public bool Overlaps(Region other) => Start < other.End && other.Start < End;
}

/// <summary>The real system did something the model says it must not. The message says what, at which step.</summary>
internal sealed class ModelViolation : Exception
{
    public ModelViolation(string message) : base(message)
    {
    }

    /// <summary>A failure of the library (an exception where none belongs) or of the test, wrapped to carry the trace.</summary>
    public ModelViolation(string message, Exception inner) : base(message, inner)
    {
    }
}
