namespace FileAio.Engines.IoUring;

/// <summary>
/// One in-flight operation's place in the engine. The CQE's <c>user_data</c> is the slot index (low 32 bits) and the
/// slot's generation (high 32 bits), which grows each time the slot is reused: a completion can only ever match the
/// submission it belongs to.
/// </summary>
/// <remarks>
/// <see cref="Word"/> holds the generation and the state, changed by compare-and-swap by the reaper and a canceller:
/// <code>
/// Free ──Start──► InFlight ──CQE (reaper)──► Free                 the common path: Wait reports the request
///                 InFlight ──Cancel──► CancelRequested
///                     CancelRequested ──CQE (reaper parks it)──► CompletedDuringCancel ──canceller──► Free
///                     CancelRequested ──kernel: "not found / running"──► InFlight
/// </code>
/// A canceller whose cancel the kernel accepted waits for the parked CQE: -ECANCELED means the operation never ran
/// (the request is cancelled and never reported); any other result is handed to Wait.
/// </remarks>
internal struct IoUringSlot
{
    public const int Free = 0;
    public const int InFlight = 1;
    public const int CancelRequested = 2;
    public const int CompletedDuringCancel = 3;

    private const int StateBits = 8;

    /// <summary>Generation in bits 8..39, state in bits 0..7.</summary>
    public long Word;

    /// <summary>The request in flight; set at Start, cleared when the slot is freed.</summary>
    public AioRequest? Request;

    /// <summary>A CQE's result held while a canceller decides (state CompletedDuringCancel).</summary>
    public int ParkedResult;

    /// <summary>The flush-barrier epoch of a write in this slot, or -1 when the request is not a write.</summary>
    public long WriteEpoch;

    public static long Make(uint generation, int state) => (long)generation << StateBits | (uint)state;

    public static uint GenerationOf(long word) => (uint)(word >> StateBits);

    public static int StateOf(long word) => (int)(word & ((1 << StateBits) - 1));

    public static ulong UserData(int index, uint generation) => (ulong)generation << 32 | (uint)index;

    public static int IndexOf(ulong userData) => (int)(uint)userData;

    public static uint GenerationOf(ulong userData) => (uint)(userData >> 32);
}
