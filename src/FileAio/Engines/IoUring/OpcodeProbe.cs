using FileAio.Interop;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>Which opcodes a ring's kernel supports, from <c>IORING_REGISTER_PROBE</c> (Linux 5.6; liburing's
/// <c>io_uring_get_probe_ring</c>). Used by the engine's support check and by the public capabilities query.</summary>
internal static unsafe class OpcodeProbe
{
    /// <summary>Entries asked for: all an opcode byte can name (the kernel fills in those it knows).</summary>
    public const int MaxOpcodes = 256;

    /// <summary>Asks the kernel through <paramref name="ring"/>. Returns 0 with <paramref name="supported"/>[op] set for
    /// each opcode flagged <c>IO_URING_OP_SUPPORTED</c>, or the errno of the probe (EINVAL before Linux 5.6).</summary>
    /// <param name="ring">Any ring; the probe does not depend on how it was set up.</param>
    /// <param name="supported">At least <see cref="MaxOpcodes"/> entries; cleared first.</param>
    public static int Read(IoUringQueue ring, Span<bool> supported)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(supported.Length, MaxOpcodes);
        int size = sizeof(IoUringProbeHeader) + (MaxOpcodes * sizeof(IoUringProbeOp));
        byte* probe = stackalloc byte[size];
        new Span<byte>(probe, size).Clear(); // the kernel refuses a probe whose reserved fields are not zero
        int result = ring.Register(IORING_REGISTER_PROBE, probe, MaxOpcodes);
        supported.Clear();
        if (result < 0)
        {
            return -result;
        }
        var header = (IoUringProbeHeader*)probe;
        var ops = (IoUringProbeOp*)(header + 1);
        for (int i = 0; i < header->OpsLen; i++)
        {
            if ((ops[i].Flags & IO_URING_OP_SUPPORTED) != 0)
            {
                supported[ops[i].Op] = true;
            }
        }
        return 0;
    }
}
