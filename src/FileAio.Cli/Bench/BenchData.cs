using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FileAio.Cli.Bench;

/// <summary>The bytes the bench writes: pseudo-random, never zero, different in every block, so no layer below (a
/// compressing or deduplicating device, a file system that skips zero blocks) can make writing them cheaper than real
/// data.</summary>
internal static class BenchData
{
    /// <summary>Fills <paramref name="block"/> with xorshift output, 8 bytes at a time.</summary>
    public static void FillBlock(Span<byte> block, ulong seed)
    {
        var random = new XorShift(seed);
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(block);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = random.Next() | 0x0101010101010101UL;
        }
        for (int i = words.Length * sizeof(ulong); i < block.Length; i++)
        {
            block[i] = (byte)(random.Next() | 1);
        }
    }

    /// <summary>Stamps each 4 KiB block of <paramref name="chunk"/> (which starts at <paramref name="fileOffset"/>)
    /// with its own offset, so repeating one random chunk across a file still gives every block distinct content.</summary>
    public static void StampOffsets(Span<byte> chunk, long fileOffset)
    {
        for (int i = 0; i + sizeof(long) <= chunk.Length; i += 4096)
        {
            BinaryPrimitives.WriteInt64LittleEndian(chunk[i..], (fileOffset + i) | 1);
        }
    }
}
