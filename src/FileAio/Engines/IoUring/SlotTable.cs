namespace FileAio.Engines.IoUring;

/// <summary>
/// The io_uring engine's operations in flight, one slot each. A CQE's <c>user_data</c> is the slot index (low 32
/// bits) and the slot's generation (high 32 bits), which grows each time the slot is reused: a completion can only
/// ever match the submission it belongs to.
/// </summary>
/// <remarks>
/// <para>Each slot's <see cref="Slot.Word"/> holds the generation and the state, changed by compare-and-swap, so
/// that the reaper and a canceller agree on who finishes an operation:</para>
/// <code>
/// Free ──Bind──► InFlight ──completion (reaper)──► Free                the common path: Reap reports it
///                InFlight ──Cancel──► CancelRequested
///                    CancelRequested ──completion (reaper parks it)──► CompletedDuringCancel ──canceller──► Free
///                    CancelRequested ──kernel: "not found / running"──► InFlight
/// </code>
/// <para>A completion is a CQE, or the answer of the side path that serves FUSE files. Free slots are handed out
/// under a lock, a batch at a time.</para>
/// </remarks>
internal sealed class SlotTable
{
    public const int Free = 0;
    public const int InFlight = 1;
    public const int CancelRequested = 2;
    public const int CompletedDuringCancel = 3;

    private const int StateBits = 8;

    private readonly Slot[] _slots;
    private readonly Lock _freeLock = new();
    private readonly int[] _free;
    private int _freeCount;
    private int _inUse;

    public SlotTable(int capacity)
    {
        _slots = new Slot[capacity];
        _free = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _free[i] = capacity - 1 - i;
        }
        _freeCount = capacity;
    }

    /// <summary>One operation's place.</summary>
    public struct Slot
    {
        /// <summary>Generation in bits 8..39, state in bits 0..7.</summary>
        public long Word;

        /// <summary>The operation; set by <see cref="Bind"/>, cleared when the slot is freed.</summary>
        public IoOperation? Operation;

        /// <summary>A completion's result held while a canceller decides (state CompletedDuringCancel).</summary>
        public long ParkedResult;

        /// <summary>The operation runs on the side path (a FUSE file), not in the ring.</summary>
        public bool OnSidePath;
    }

    public int Capacity => _slots.Length;

    /// <summary>Slots not free (bound, or claimed and about to be).</summary>
    public int InUse => Volatile.Read(ref _inUse);

    public ref Slot this[int index] => ref _slots[index];

    /// <summary>Takes up to <paramref name="into"/>.Length free slots; returns how many.</summary>
    public int Claim(Span<int> into)
    {
        int count;
        lock (_freeLock)
        {
            count = Math.Min(into.Length, _freeCount);
            for (int i = 0; i < count; i++)
            {
                into[i] = _free[--_freeCount];
            }
        }
        Interlocked.Add(ref _inUse, count);
        return count;
    }

    public void Return(ReadOnlySpan<int> indices)
    {
        lock (_freeLock)
        {
            foreach (int index in indices)
            {
                _free[_freeCount++] = index;
            }
        }
        Interlocked.Add(ref _inUse, -indices.Length);
    }

    public void Return(int index) => Return(new ReadOnlySpan<int>(in index));

    /// <summary>Puts an operation in a claimed slot, in flight, under a new generation; returns its user_data (also
    /// stored in the operation's <see cref="IoOperation.EngineSequence"/>).</summary>
    public ulong Bind(int index, IoOperation operation, bool onSidePath)
    {
        ref Slot slot = ref _slots[index];
        uint generation = GenerationOf(slot.Word) + 1;
        slot.Operation = operation;
        slot.OnSidePath = onSidePath;
        ulong userData = UserData(index, generation);
        operation.EngineSequence = (long)userData;
        // Published last: a canceller that reads InFlight sees the operation in the slot.
        Volatile.Write(ref slot.Word, Make(generation, InFlight));
        return userData;
    }

    /// <summary>Frees a slot whose operation left the engine, keeping its generation.</summary>
    public void Release(int index)
    {
        ref Slot slot = ref _slots[index];
        slot.Operation = null;
        Volatile.Write(ref slot.Word, Make(GenerationOf(slot.Word), Free));
        Return(index);
    }

    public static long Make(uint generation, int state) => (long)generation << StateBits | (uint)state;

    public static uint GenerationOf(long word) => (uint)(word >> StateBits);

    public static int StateOf(long word) => (int)(word & ((1 << StateBits) - 1));

    public static ulong UserData(int index, uint generation) => (ulong)generation << 32 | (uint)index;

    public static int IndexOf(ulong userData) => (int)(uint)userData;

    public static uint GenerationOf(ulong userData) => (uint)(userData >> 32);
}
