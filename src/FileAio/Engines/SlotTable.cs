using System.Diagnostics;

namespace FileAio.Engines;

/// <summary>
/// A kernel engine's operations in flight, one slot each (io_uring, Linux AIO). A completion's tag (io_uring's
/// <c>user_data</c>, an iocb's <c>aio_data</c>) is the slot index (low 32 bits) and the slot's generation (high 32
/// bits), which grows each time the slot is reused: a completion can only ever match the submission it belongs to.
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
/// <para>A completion is a CQE or an io_event, or the answer of the side path that serves the files the kernel
/// engine does not. Free slots are handed out under a lock, a batch at a time. <see cref="TakeCompletion"/>,
/// <see cref="TryBeginCancel"/> and <see cref="EndCancel"/> are the reaper's and the canceller's halves of the
/// diagram, so every engine moves slots the same way.</para>
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

    /// <summary>What <see cref="TakeCompletion"/> did with a completion.</summary>
    public enum CompletionOutcome
    {
        /// <summary>The slot is free; the operation (with its result set) goes to the reaper's caller.</summary>
        HandedOut,

        /// <summary>A canceller is deciding about the operation: the result is parked for it.</summary>
        Parked,
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

    /// <summary>
    /// The reaper's half: a completion with <paramref name="result"/> arrived for <paramref name="tag"/>. Either the
    /// slot is freed (but not returned to the free list: the caller returns <paramref name="index"/>, in a batch) and
    /// <paramref name="operation"/> carries the result, or a canceller holds the slot and the result is parked for it.
    /// </summary>
    public CompletionOutcome TakeCompletion(ulong tag, long result, out IoOperation? operation, out int index)
    {
        index = IndexOf(tag);
        uint generation = GenerationOf(tag);
        ref Slot slot = ref _slots[index];
        long inFlight = Make(generation, InFlight);
        long cancelRequested = Make(generation, CancelRequested);
        while (true)
        {
            long word = Volatile.Read(ref slot.Word);
            if (word == inFlight)
            {
                IoOperation taken = slot.Operation!;
                if (Interlocked.CompareExchange(ref slot.Word, Make(generation, Free), inFlight) == inFlight)
                {
                    slot.Operation = null;
                    taken.Result = result; // a byte count, or -errno
                    operation = taken;
                    return CompletionOutcome.HandedOut;
                }
            }
            else if (word == cancelRequested)
            {
                slot.ParkedResult = result; // published by the compare-and-swap below
                if (Interlocked.CompareExchange(ref slot.Word, Make(generation, CompletedDuringCancel), cancelRequested) == cancelRequested)
                {
                    operation = null;
                    return CompletionOutcome.Parked;
                }
            }
            else
            {
                Debug.Fail($"Completion for slot {index} generation {generation} found word 0x{word:x}.");
                operation = null;
                return CompletionOutcome.Parked;
            }
        }
    }

    /// <summary>What a canceller found when it tried to take hold of a slot.</summary>
    public enum CancelStart
    {
        /// <summary>Held (CancelRequested): ask the kernel, then <see cref="EndCancel"/>.</summary>
        Holding,

        /// <summary>Another canceller holds it right now: it is not free yet.</summary>
        Busy,

        /// <summary>It was reaped (or is being): Reap reports it, or has.</summary>
        Gone,
    }

    /// <summary>The canceller's first half: InFlight → CancelRequested for the operation tagged <paramref name="tag"/>
    /// (out of range tags are <see cref="CancelStart.Gone"/>).</summary>
    public CancelStart TryBeginCancel(ulong tag)
    {
        int index = IndexOf(tag);
        if ((uint)index >= (uint)_slots.Length)
        {
            return CancelStart.Gone;
        }
        uint generation = GenerationOf(tag);
        ref Slot slot = ref _slots[index];
        if (Interlocked.CompareExchange(ref slot.Word, Make(generation, CancelRequested), Make(generation, InFlight)) == Make(generation, InFlight))
        {
            return CancelStart.Holding;
        }
        long word = Volatile.Read(ref slot.Word);
        return GenerationOf(word) == generation && StateOf(word) != Free ? CancelStart.Busy : CancelStart.Gone;
    }

    /// <summary>
    /// The canceller's second half, when the kernel did not cancel: back to InFlight, so the reaper reports it —
    /// unless its completion was parked meanwhile; then the slot is released here and <paramref name="parkedResult"/>
    /// is what it finished with (true).
    /// </summary>
    public bool EndCancel(ulong tag, out long parkedResult)
    {
        int index = IndexOf(tag);
        uint generation = GenerationOf(tag);
        ref Slot slot = ref _slots[index];
        if (Interlocked.CompareExchange(ref slot.Word, Make(generation, InFlight), Make(generation, CancelRequested)) == Make(generation, CancelRequested))
        {
            parkedResult = 0;
            return false;
        }
        parkedResult = TakeParked(tag);
        return true;
    }

    /// <summary>Whether the completion of <paramref name="tag"/> is parked for its canceller.</summary>
    public bool IsParked(ulong tag) => Volatile.Read(ref _slots[IndexOf(tag)].Word) == Make(GenerationOf(tag), CompletedDuringCancel);

    /// <summary>Releases a slot whose completion was parked for its canceller; returns the parked result.</summary>
    public long TakeParked(ulong tag)
    {
        int index = IndexOf(tag);
        Debug.Assert(IsParked(tag), "The completion is parked.");
        long result = _slots[index].ParkedResult;
        Release(index);
        return result;
    }

    /// <summary>Frees the slot of an operation that will never complete (held by no kernel and no worker any more):
    /// InFlight or CancelRequested → Free. False if it was not in that life.</summary>
    public bool TryReleaseUncompleted(ulong tag)
    {
        int index = IndexOf(tag);
        uint generation = GenerationOf(tag);
        ref Slot slot = ref _slots[index];
        long word = Volatile.Read(ref slot.Word);
        if (GenerationOf(word) != generation || StateOf(word) is not (InFlight or CancelRequested)
            || Interlocked.CompareExchange(ref slot.Word, Make(generation, Free), word) != word)
        {
            return false;
        }
        slot.Operation = null;
        Return(index);
        return true;
    }
}
