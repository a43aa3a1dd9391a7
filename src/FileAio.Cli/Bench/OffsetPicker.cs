namespace FileAio.Cli.Bench;

/// <summary>
/// Chooses each operation's offset and direction for one loop: random block-aligned offsets over the whole file, or
/// the next block of the job's <see cref="SequentialCursor"/>; for <see cref="ReadWriteMode.RandRw"/>, read or write
/// with equal chance. A struct with no allocation per call.
/// </summary>
internal struct OffsetPicker
{
    private readonly SequentialCursor? _sequential;
    private readonly ulong _blocks;
    private readonly int _blockSize;
    private readonly ReadWriteMode _rw;
    private XorShift _random;

    public OffsetPicker(ReadWriteMode rw, long fileSize, int blockSize, SequentialCursor? sequential, ulong seed)
    {
        _rw = rw;
        _blockSize = blockSize;
        _blocks = (ulong)(fileSize / blockSize);
        _sequential = BenchNames.IsRandom(rw) ? null : sequential ?? throw new ArgumentNullException(nameof(sequential));
        _random = new XorShift(seed);
    }

    public long NextOffset() =>
        _sequential is not null ? _sequential.Next() : (long)_random.NextBelow(_blocks) * _blockSize;

    public bool NextIsWrite() => _rw switch
    {
        ReadWriteMode.Write or ReadWriteMode.RandWrite => true,
        ReadWriteMode.RandRw => (_random.Next() & (1UL << 40)) != 0,
        _ => false,
    };
}
