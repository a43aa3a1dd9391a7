using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using FileAio.Cli.Bench;

namespace FileAio.Cli.Verify;

/// <summary>
/// The self-describing blocks <c>fileaio verify</c> writes. Each block says where it belongs and checks itself, so a
/// reader can tell a block that was corrupted from one that landed at the wrong offset, one from another run, or one
/// never written at all.
/// </summary>
/// <remarks>
/// Layout, little-endian:
/// <code>
///  0  8  magic "FAIOBLK1"
///  8  8  offset of the block in the file
/// 16  8  seed of the run
/// 24  4  block size
/// 28  4  format version (1)
/// 32  8  XxHash64 of bytes 0..31 and 40..end (the header and the payload, not this field)
/// 40  …  payload: xorshift64* output seeded from (seed, offset)
/// </code>
/// </remarks>
internal static class PatternBlock
{
    public const int HeaderSize = 40;
    public const int MinimumSize = 512;
    private const ulong Magic = 0x314B4C424F494146; // "FAIOBLK1" read as a little-endian ulong
    private const uint Version = 1;

    /// <summary>Writes the block for <paramref name="offset"/> of a run with <paramref name="seed"/>.</summary>
    public static void Fill(Span<byte> block, long offset, ulong seed)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(block, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(block[8..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], seed);
        BinaryPrimitives.WriteInt32LittleEndian(block[24..], block.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(block[28..], Version);
        FillPayload(block[HeaderSize..], offset, seed);
        BinaryPrimitives.WriteUInt64LittleEndian(block[32..], Checksum(block));
    }

    /// <summary>What the header of a block says, when it has the magic.</summary>
    public readonly record struct Header(long Offset, ulong Seed, int BlockSize);

    /// <summary>Reads the header if the block starts with the magic and its checksum holds.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> block, out Header header)
    {
        header = default;
        if (block.Length < HeaderSize || BinaryPrimitives.ReadUInt64LittleEndian(block) != Magic)
        {
            return false;
        }
        header = new Header(
            BinaryPrimitives.ReadInt64LittleEndian(block[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(block[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(block[24..]));
        return header.BlockSize == block.Length && BinaryPrimitives.ReadUInt64LittleEndian(block[32..]) == Checksum(block);
    }

    /// <summary>Checks the block read at <paramref name="offset"/>; returns null when it is exactly what a run with
    /// <paramref name="seed"/> wrote there, else what is wrong with it.</summary>
    public static string? Check(ReadOnlySpan<byte> block, long offset, ulong seed)
    {
        if (!block.ContainsAnyExcept((byte)0))
        {
            return "all zeros: never written, or lost (a hole or a zeroed block)";
        }
        if (BinaryPrimitives.ReadUInt64LittleEndian(block) != Magic)
        {
            return $"not a pattern block (no magic; it starts {Hex(block[..8])}){Differences(block, offset, seed)}";
        }
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(block[32..]);
        ulong computed = Checksum(block);
        if (stored != computed)
        {
            return $"checksum mismatch (stored {stored:x16}, computed {computed:x16}){Differences(block, offset, seed)}";
        }
        long storedOffset = BinaryPrimitives.ReadInt64LittleEndian(block[8..]);
        ulong storedSeed = BinaryPrimitives.ReadUInt64LittleEndian(block[16..]);
        int storedSize = BinaryPrimitives.ReadInt32LittleEndian(block[24..]);
        if (storedSize != block.Length)
        {
            return $"written with block size {storedSize}, read with {block.Length} (use --bs {storedSize})";
        }
        if (storedOffset != offset)
        {
            long shift = offset - storedOffset;
            return $"holds the block written for offset {storedOffset}: misplaced by {(shift > 0 ? "+" : "")}{shift} bytes ({(double)shift / block.Length:+0.##;-0.##} blocks)";
        }
        if (storedSeed != seed)
        {
            return $"written by another run (seed {Seeds.Format(storedSeed)}, expected {Seeds.Format(seed)})";
        }
        return null;
    }

    /// <summary>", 1 byte differs from the pattern, first at +100 (expected 0x3a, found 0x3b)": compares the block with
    /// the one that belongs at <paramref name="offset"/> (diagnosis only; the verdict comes from the checksum).</summary>
    private static string Differences(ReadOnlySpan<byte> block, long offset, ulong seed)
    {
        byte[] expected = new byte[block.Length];
        Fill(expected, offset, seed);
        int first = block.CommonPrefixLength(expected);
        if (first == block.Length)
        {
            return "";
        }
        int count = 0;
        for (int i = first; i < block.Length; i++)
        {
            count += block[i] != expected[i] ? 1 : 0;
        }
        string where = first < HeaderSize ? $"+{first}, in the header" : $"+{first}";
        return $"; {count} byte{(count == 1 ? "" : "s")} differ{(count == 1 ? "s" : "")} from the pattern, first at {where} (expected 0x{expected[first]:x2}, found 0x{block[first]:x2})";
    }

    private static ulong Checksum(ReadOnlySpan<byte> block)
    {
        var hash = new XxHash64();
        hash.Append(block[..32]);
        hash.Append(block[HeaderSize..]);
        return hash.GetCurrentHashAsUInt64();
    }

    private static void FillPayload(Span<byte> payload, long offset, ulong seed)
    {
        var random = new XorShift(seed ^ ((ulong)offset * 0x9E3779B97F4A7C15UL));
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(payload);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = random.Next();
        }
        for (int i = words.Length * sizeof(ulong); i < payload.Length; i++)
        {
            payload[i] = (byte)random.Next();
        }
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
