using System.Buffers;
using System.Runtime.InteropServices;
using FileAio.Buffers;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// The files and buffers registered with one ring, so that operations on them skip the kernel's per-operation file
/// lookup and page pinning (fio's <c>--registerfiles --fixedbufs</c>). Two ways in: a context's AssociateWithFile and
/// AssociateWithBuffer (kept until the ring closes), and, on an async host's engine thread, registration on first use
/// (<see cref="EngineSettings.RegisterOnFirstUse"/>): a file until the async layer forgets it, an
/// <see cref="AlignedBuffer"/> until it is found disposed. Sparse tables (Linux 5.19) are registered on first use and
/// filled one entry at a time; where the kernel refuses, nothing is registered and operations use plain fds and
/// addresses, which is always correct.
/// </summary>
/// <remarks>
/// <para>1. Files. The kernel's table holds the open file itself, not its descriptor: a file is not really closed
/// until its entry is cleared, which is why the async layer forgets a file before its close completes. Files are found
/// by their handle object, never by descriptor number, so a number closed and reused for another file cannot lead an
/// operation to the old entry. A file a context associates also keeps a reference on its handle until the ring is
/// closed (<see cref="Release"/>), as the context's contract promises. A file registered on first use does not: a
/// caller who closes the handle under its <see cref="AioFile"/> (misuse) then sees its next operations fail, as they
/// would without registration, instead of reaching a file it closed.</para>
/// <para>2. Buffers a context associates are pinned here until release and found by address. Buffers registered on
/// first use are found by their <see cref="AlignedBuffer"/> object, never by address: once a buffer is disposed and
/// freed, a new one may get the same address over other pages, and an address lookup would then send the kernel's copy
/// to the old pages. The old entry costs only the pages the kernel still pins (the memory is not ours any more, but
/// it cannot be handed to anyone by the kernel either): entries of disposed buffers are cleared every
/// <see cref="SweepEvery"/> registrations and whenever the table or <see cref="FirstUseBudget"/> is full. A workload
/// that disposes most of the buffers it registers gains nothing from registering them: then registration on first use
/// stops for this ring.</para>
/// <para>3. Threading. Every call is made under the engine's submission lock (a context) or on the ring's owning thread
/// (an engine thread), so the tables are plain collections.</para>
/// </remarks>
internal sealed unsafe class RegisteredResources
{
    /// <summary>Entries in each sparse table.</summary>
    public const int TableSize = 1024;

    /// <summary>Largest buffer registered on first use: registering pins every page of it at once.</summary>
    public const int MaxFirstUseBufferBytes = 1 << 20;

    /// <summary>Most bytes of buffers registered on first use at a time, so that entries of disposed buffers cannot pin
    /// much memory before a sweep clears them.</summary>
    public const long FirstUseBudget = 64L << 20;

    /// <summary>Registrations on first use between two sweeps for disposed buffers.</summary>
    public const int SweepEvery = 64;

    private readonly IoUringQueue _ring;
    private bool _fileTableRegistered, _fileTableRefused;
    private bool _bufferTableRegistered, _bufferTableRefused;

    // ---- Files: handle -> slot.
    private readonly Dictionary<SafeFileHandle, (int Slot, bool Held)> _fileIndex = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<int> _freeFileSlots = new();
    private int _nextFileSlot;

    // ---- Buffers: slots shared by both kinds.
    private readonly Stack<int> _freeBufferSlots = new();
    private int _nextBufferSlot;
    private readonly List<(nuint Start, nuint End, int Slot)> _associated = [];   // a context's, by address
    private readonly List<MemoryHandle> _associatedPins = [];
    private readonly Dictionary<AlignedBuffer, int> _firstUse = new(ReferenceEqualityComparer.Instance);
    private long _firstUseBytes;
    private int _registeredSinceSweep;
    private bool _firstUseStopped;

    public RegisteredResources(IoUringQueue ring) => _ring = ring;

    /// <summary>Files registered now (tests).</summary>
    public int FileCount => _fileIndex.Count;

    /// <summary>Buffers registered on first use now (tests).</summary>
    public int FirstUseBufferCount => _firstUse.Count;

    // ============================================================================================================
    // Files

    /// <summary>Registers <paramref name="file"/> (a no-op when it is); false when the kernel has no room or no support
    /// (then plain fds). The handle must not be closed: the caller holds a reference on it. With
    /// <paramref name="holdHandle"/> (a context's association) the entry keeps a reference of its own (remark 1).</summary>
    public bool AddFile(SafeFileHandle file, bool holdHandle)
    {
        if (_fileIndex.ContainsKey(file))
        {
            return true;
        }
        if (!TryTakeSlot(_freeFileSlots, ref _nextFileSlot, out int slot))
        {
            return false;
        }
        if (!EnsureTable(IORING_REGISTER_FILES2, ref _fileTableRegistered, ref _fileTableRefused))
        {
            GiveBackSlot(_freeFileSlots, slot);
            return false;
        }
        if (!UpdateFileSlot(slot, (int)file.DangerousGetHandle()))
        {
            GiveBackSlot(_freeFileSlots, slot);
            return false;
        }
        if (holdHandle)
        {
            bool added = false;
            file.DangerousAddRef(ref added); // the caller's reference keeps it open: this cannot fail
        }
        _fileIndex.Add(file, (slot, holdHandle));
        return true;
    }

    /// <summary>The registered-file index of <paramref name="file"/>, or -1.</summary>
    public int FileIndexOf(SafeFileHandle file) => _fileIndex.TryGetValue(file, out (int Slot, bool) entry) ? entry.Slot : -1;

    /// <summary>Clears <paramref name="file"/>'s entry, if it has one, and drops its handle reference if it holds one
    /// (remark 1). The kernel keeps the file for operations still using the entry, until they complete.</summary>
    public void RemoveFile(SafeFileHandle file)
    {
        if (!_fileIndex.Remove(file, out (int Slot, bool Held) entry))
        {
            return;
        }
        if (UpdateFileSlot(entry.Slot, -1))
        {
            GiveBackSlot(_freeFileSlots, entry.Slot);
        }
        // An entry the kernel would not clear (it never refuses this) stays and its slot is not reused; the kernel
        // drops it with the ring. Either way the handle reference is ours to drop now: the kernel holds the file itself.
        if (entry.Held)
        {
            file.DangerousRelease();
        }
    }

    private bool UpdateFileSlot(int slot, int fd)
    {
        var update = new IoUringRsrcUpdate2 { Offset = (uint)slot, Data = (ulong)&fd, Nr = 1 };
        return _ring.Register(IORING_REGISTER_FILES_UPDATE2, &update, (uint)sizeof(IoUringRsrcUpdate2)) == 1;
    }

    // ============================================================================================================
    // Buffers

    /// <summary>Registers <paramref name="buffer"/> (pinned until release; a context's); false when the kernel refuses.</summary>
    public bool AddBuffer(Memory<byte> buffer)
    {
        if (!TryTakeSlot(_freeBufferSlots, ref _nextBufferSlot, out int slot))
        {
            return false;
        }
        MemoryHandle pin = buffer.Pin();
        if (!EnsureTable(IORING_REGISTER_BUFFERS2, ref _bufferTableRegistered, ref _bufferTableRefused)
            || !UpdateBufferSlot(slot, pin.Pointer, buffer.Length))
        {
            pin.Dispose();
            GiveBackSlot(_freeBufferSlots, slot);
            return false;
        }
        _associatedPins.Add(pin);
        nuint start = (nuint)pin.Pointer;
        _associated.Add((start, start + (nuint)buffer.Length, slot));
        return true;
    }

    /// <summary>
    /// The index of the registered buffer holding all of [<paramref name="start"/>, +<paramref name="length"/>) of
    /// <paramref name="memory"/>, or -1. A context's buffers are looked up by address; an <see cref="AlignedBuffer"/>
    /// by the object (remark 2), registered now when <paramref name="registerOnFirstUse"/> says so and it is small and
    /// there is room. The caller holds a pin on the memory.
    /// </summary>
    public int BufferIndexOf(Memory<byte> memory, byte* start, int length, bool registerOnFirstUse)
    {
        nuint from = (nuint)start, to = from + (nuint)length;
        foreach ((nuint Start, nuint End, int Slot) associated in _associated)
        {
            if (associated.Start <= from && to <= associated.End)
            {
                return associated.Slot;
            }
        }
        if (!MemoryMarshal.TryGetMemoryManager<byte, AlignedBuffer>(memory, out AlignedBuffer? aligned) || aligned is null)
        {
            return -1;
        }
        if (_firstUse.TryGetValue(aligned, out int slot))
        {
            return slot;
        }
        return registerOnFirstUse ? RegisterOnFirstUse(aligned) : -1;
    }

    private int RegisterOnFirstUse(AlignedBuffer buffer)
    {
        if (_firstUseStopped || _bufferTableRefused || buffer.Length > MaxFirstUseBufferBytes)
        {
            return -1;
        }
        if (_registeredSinceSweep >= SweepEvery || _firstUseBytes + buffer.Length > FirstUseBudget
            || (_freeBufferSlots.Count == 0 && _nextBufferSlot == TableSize))
        {
            SweepDisposed();
            if (_firstUseStopped || _firstUseBytes + buffer.Length > FirstUseBudget)
            {
                return -1;
            }
        }
        if (!TryTakeSlot(_freeBufferSlots, ref _nextBufferSlot, out int slot))
        {
            return -1;
        }
        // The caller's pin keeps the memory allocated while the kernel pins its pages here; from then on the kernel's
        // own pin keeps those pages, whatever happens to the buffer (remark 2).
        if (!EnsureTable(IORING_REGISTER_BUFFERS2, ref _bufferTableRegistered, ref _bufferTableRefused)
            || !UpdateBufferSlot(slot, (void*)buffer.Address, buffer.Length))
        {
            GiveBackSlot(_freeBufferSlots, slot);
            _firstUseStopped = true; // ENOMEM (locked-memory limit) or no support: it will not get better
            return -1;
        }
        _firstUse.Add(buffer, slot);
        _firstUseBytes += buffer.Length;
        _registeredSinceSweep++;
        return slot;
    }

    /// <summary>Clears the entries of disposed first-use buffers (remark 2); stops registration on first use when most
    /// of the entries were such.</summary>
    private void SweepDisposed()
    {
        int before = _firstUse.Count;
        List<AlignedBuffer>? disposed = null;
        foreach (AlignedBuffer buffer in _firstUse.Keys)
        {
            if (buffer.IsDisposed)
            {
                (disposed ??= []).Add(buffer);
            }
        }
        foreach (AlignedBuffer buffer in disposed ?? [])
        {
            int slot = _firstUse[buffer];
            _firstUse.Remove(buffer);
            _firstUseBytes -= buffer.Length;
            if (UpdateBufferSlot(slot, null, 0))
            {
                GiveBackSlot(_freeBufferSlots, slot);
            }
        }
        int cleared = disposed?.Count ?? 0;
        if (before >= SweepEvery && cleared * 2 > before)
        {
            _firstUseStopped = true; // buffers come and go: registering each costs more than it saves
        }
        _registeredSinceSweep = 0;
    }

    private bool UpdateBufferSlot(int slot, void* address, int length)
    {
        var iov = new IoVec { Base = address, Length = (nuint)length };
        var update = new IoUringRsrcUpdate2 { Offset = (uint)slot, Data = (ulong)&iov, Nr = 1 };
        return _ring.Register(IORING_REGISTER_BUFFERS_UPDATE, &update, (uint)sizeof(IoUringRsrcUpdate2)) == 1;
    }

    // ============================================================================================================
    // Tables

    private static bool TryTakeSlot(Stack<int> free, ref int next, out int slot)
    {
        if (free.TryPop(out slot))
        {
            return true;
        }
        if (next < TableSize)
        {
            slot = next++;
            return true;
        }
        slot = -1;
        return false;
    }

    private static void GiveBackSlot(Stack<int> free, int slot) => free.Push(slot);

    private bool EnsureTable(uint opcode, ref bool registered, ref bool refused)
    {
        if (!registered && !refused)
        {
            var table = new IoUringRsrcRegister { Nr = TableSize, Flags = IORING_RSRC_REGISTER_SPARSE };
            registered = _ring.Register(opcode, &table, (uint)sizeof(IoUringRsrcRegister)) == 0;
            refused = !registered;
        }
        return registered;
    }

    /// <summary>Drops the handle references and pins. Call after the ring is closed (the kernel's tables are gone).</summary>
    public void Release()
    {
        foreach ((SafeFileHandle file, (int _, bool held)) in _fileIndex)
        {
            if (held)
            {
                file.DangerousRelease();
            }
        }
        _fileIndex.Clear();
        foreach (MemoryHandle pin in _associatedPins)
        {
            pin.Dispose();
        }
        _associatedPins.Clear();
        _associated.Clear();
        _firstUse.Clear();
        _firstUseBytes = 0;
    }
}
