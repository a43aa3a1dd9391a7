namespace FileAio.Cli.Bench;

/// <summary>xorshift64* (Vigna): a few instructions and no allocation per number, so choosing offsets costs nothing
/// next to the I/O being measured. The bench harness (bench/FileAio.Bench) compiles this same file.</summary>
internal struct XorShift(ulong seed)
{
    private ulong _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed; // the state must never be 0

    public ulong Next()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }

    /// <summary>A uniform value in [0, <paramref name="count"/>): the high half of a 64×64-bit product (Lemire), which
    /// avoids the division of a modulo.</summary>
    public ulong NextBelow(ulong count) => Math.BigMul(Next(), count, out _);

    /// <summary>A random <paramref name="blockSize"/>-aligned offset of a block lying wholly in a file of <paramref name="fileSize"/>.</summary>
    public long NextOffset(long fileSize, int blockSize) => (long)NextBelow((ulong)(fileSize / blockSize)) * blockSize;
}
