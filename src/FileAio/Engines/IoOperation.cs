using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FileAio.Interop;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines;

/// <summary>
/// One file operation as every engine sees it: what to do (kind, file, offset, buffers), what keeps its memory valid
/// for the kernel (the pins and a reference on the file handle), the engine's bookkeeping, and whose it is. Both
/// layers describe their work with it — every contract request and every async operation holds one — so an engine
/// never sees a public or an async type.
/// </summary>
/// <remarks>
/// <para>Life. The layer describes the operation (<c>Set*</c>) while no engine holds it, pins it (<see cref="Pin"/>)
/// and hands it to an engine. The engine owns <see cref="Result"/> and the <c>Engine*</c> fields until it gives the
/// operation back — reaped, or cancelled — after which the kernel touches none of its memory; the layer then
/// unpins it (<see cref="Unpin"/>) and reads <see cref="Result"/>. One owner at a time, so no field is shared.</para>
/// <para>The description is reused: a vectored operation keeps its segment array and its iovec array (on the
/// pinned object heap, so the kernel may read it while the operation is in flight) from one use to the next.</para>
/// </remarks>
internal sealed unsafe class IoOperation
{
    // ---- What to do: set by the layer while no engine holds the operation.
    private Memory<byte> _buffer;            // the only buffer of a plain transfer
    private Memory<byte>[] _segments = [];   // the buffers of a vectored transfer (reused; grows, never shrinks)
    private int _segmentCount;               // 0 for a flush, 1 for a plain transfer, more when vectored
    private bool _vectored;
    private int _memoryAlignment;            // > 0 when the file is open for direct I/O: the buffers' address rule

    // ---- What keeps it valid for the kernel, from Pin to Unpin.
    private PinSet _pins;
    private IoVec[] _iovecs = [];            // a vectored transfer's iovecs, filled by Pin (pinned object heap)

    /// <summary>Creates an idle operation belonging to <paramref name="owner"/>, the layer's object it serves.</summary>
    public IoOperation(object owner) => Owner = owner;

    /// <summary>The layer's object this operation serves (a contract request, an async operation). Engines never
    /// look at it; the layer finds its own object from a reaped operation through it.</summary>
    public object Owner { get; }

    public OperationKind Kind { get; private set; }

    public SafeFileHandle? File { get; private set; }

    /// <summary>Facts about <see cref="File"/> that engines route by (FUSE files, pollable files).</summary>
    public FileTraits Traits { get; private set; }

    public long Offset { get; private set; }

    /// <summary>A flush of the data only (<c>fdatasync</c>).</summary>
    public bool DataOnly { get; private set; }

    /// <summary>The writes a flush waits for, and that this operation's write holds flushes back for (set by the
    /// layer; null for an operation that takes part in no barrier).</summary>
    public FlushScope? Scope { get; set; }

    // ---- The engine's, while it holds the operation.

    /// <summary>The outcome the engine stored: bytes, a negated errno, or <see cref="OperationResult.Canceled"/>.</summary>
    public long Result;

    /// <summary>Engine-private state word (queue state, slot state...).</summary>
    public int EngineState;

    /// <summary>Engine-private sequence number (io_uring's user_data).</summary>
    public long EngineSequence;

    /// <summary>The sequence number of the operation's entry in a worker pool's queue (the thread-pool engine, and
    /// io_uring's side path, which may hold the same operation as io_uring itself).</summary>
    public long QueueSequence;

    /// <summary>The <see cref="FlushScope"/> epoch of a write while it is in flight.</summary>
    public long WriteEpoch;

    // ------------------------------------------------------------------------------------------------------------
    // Description (by the layer, while idle).

    /// <summary>A read or write of one buffer. <paramref name="memoryAlignment"/> &gt; 0 asks <see cref="Pin"/> to
    /// check the buffer's address against the direct I/O rule.</summary>
    public void SetTransfer(OperationKind kind, SafeFileHandle file, FileTraits traits, long offset, Memory<byte> buffer, int memoryAlignment)
    {
        SetCommon(kind, file, traits, offset);
        _buffer = buffer;
        _segmentCount = 1;
        _vectored = false;
        _memoryAlignment = memoryAlignment;
    }

    /// <summary>Room for <paramref name="count"/> buffers of a vectored transfer, to fill before
    /// <see cref="SetVectored"/>.</summary>
    public Memory<byte>[] RentSegments(int count)
    {
        if (_segments.Length < count)
        {
            _segments = new Memory<byte>[Math.Max(count, 4)];
        }
        return _segments;
    }

    /// <summary>A read or write of the first <paramref name="count"/> buffers given by <see cref="RentSegments"/>.</summary>
    public void SetVectored(OperationKind kind, SafeFileHandle file, FileTraits traits, long offset, int count, int memoryAlignment)
    {
        SetCommon(kind, file, traits, offset);
        _buffer = default;
        _segmentCount = count;
        _vectored = true;
        _memoryAlignment = memoryAlignment;
    }

    /// <summary>An <c>fsync</c>, or an <c>fdatasync</c> when <paramref name="dataOnly"/>.</summary>
    public void SetFlush(SafeFileHandle file, FileTraits traits, bool dataOnly)
    {
        SetCommon(OperationKind.Flush, file, traits, 0);
        DataOnly = dataOnly;
        _buffer = default;
        _segmentCount = 0;
        _vectored = false;
        _memoryAlignment = 0;
    }

    private void SetCommon(OperationKind kind, SafeFileHandle file, FileTraits traits, long offset)
    {
        Kind = kind;
        File = file;
        Traits = traits;
        Offset = offset;
        DataOnly = false;
    }

    /// <summary>Forgets the file and the buffers (so an idle operation keeps nothing of the caller's alive).</summary>
    public void Clear()
    {
        _buffer = default;
        Array.Clear(_segments, 0, Math.Min(_segmentCount, _segments.Length));
        _segmentCount = 0;
        File = null;
        Scope = null;
        Kind = OperationKind.None;
    }

    // ------------------------------------------------------------------------------------------------------------
    // What engines read.

    /// <summary>How many buffers: 0 for a flush, 1 for a plain transfer, more when vectored.</summary>
    public int SegmentCount => _segmentCount;

    public bool IsVectored => _vectored;

    /// <summary>The buffers' address rule given when it was described (&gt; 0 for direct I/O), for an operation built
    /// from this one's buffers (a gathered write).</summary>
    public int MemoryAlignment => _memoryAlignment;

    public Memory<byte> Segment(int index) => _vectored ? _segments[index] : _buffer;

    public int SegmentLength(int index) => _vectored ? _segments[index].Length : _buffer.Length;

    /// <summary>The descriptor; valid while pinned (the pins hold a reference on the handle).</summary>
    public int Fd => (int)File!.DangerousGetHandle();

    /// <summary>The address of buffer <paramref name="index"/>; valid only while pinned.</summary>
    public byte* SegmentPointer(int index) => (byte*)(index == 0 ? _pins.First.Pointer : _pins.Rest![index - 1].Pointer);

    /// <summary>The iovec array of a vectored transfer (one entry per buffer); valid while pinned, at an address that
    /// does not move (the kernel may read it while the operation is in flight).</summary>
    public IoVec* Iovecs => (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_iovecs));

    // ------------------------------------------------------------------------------------------------------------
    // Pinning (by the layer).

    /// <summary>
    /// Takes a reference on the file handle and pins every buffer, so that the kernel may use both until the
    /// operation is given back, and checks the direct I/O address rule. On any failure nothing stays held and the
    /// exception propagates (a handle closed since it was described gives <see cref="ObjectDisposedException"/>).
    /// </summary>
    public void Pin()
    {
        try
        {
            bool added = false;
            File!.DangerousAddRef(ref added);
            _pins.File = File;
            if (_segmentCount > 1 && (_pins.Rest is null || _pins.Rest.Length < _segmentCount - 1))
            {
                _pins.Rest = new MemoryHandle[Math.Max(_segmentCount - 1, 4)]; // before any pin: Release walks it
            }
            for (int i = 0; i < _segmentCount; i++)
            {
                MemoryHandle handle = Segment(i).Pin();
                if (i == 0)
                {
                    _pins.First = handle;
                }
                else
                {
                    _pins.Rest![i - 1] = handle;
                }
                _pins.Count = i + 1;
                DirectIoRule.CheckAddress(handle.Pointer, _memoryAlignment, "buffer");
            }
            if (_vectored)
            {
                FillIovecs();
            }
        }
        catch
        {
            _pins.Release();
            throw;
        }
    }

    /// <summary>Releases what <see cref="Pin"/> took; nothing when it holds nothing.</summary>
    public void Unpin() => _pins.Release();

    private void FillIovecs()
    {
        if (_iovecs.Length < _segmentCount)
        {
            _iovecs = GC.AllocateArray<IoVec>(Math.Max(_segmentCount, 4), pinned: true);
        }
        for (int i = 0; i < _segmentCount; i++)
        {
            _iovecs[i].Base = SegmentPointer(i);
            _iovecs[i].Length = (nuint)SegmentLength(i);
        }
    }
}
