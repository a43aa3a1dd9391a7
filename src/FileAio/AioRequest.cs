using System.Buffers;
using System.Runtime.InteropServices;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio;

/// <summary>
/// A reusable description of one file operation (IPRT's <c>RTFILEAIOREQ</c>).
/// </summary>
/// <remarks>
/// <para>Life cycle: a new request is <see cref="AioRequestState.Completed"/> (status Success, 0 bytes).
/// <c>Prepare*</c> makes it <see cref="AioRequestState.Prepared"/>; <see cref="AioContext.Submit"/> makes it
/// <see cref="AioRequestState.Submitted"/>; <see cref="AioContext.Wait"/> (or a successful <see cref="Cancel"/>,
/// or a refusal at submit) makes it <see cref="AioRequestState.Completed"/> again, with its result.</para>
/// <para>Threading: prepare, read results and dispose from one thread at a time, and only while the request is not
/// Submitted. <see cref="Cancel"/>, <see cref="State"/> and <see cref="Status"/> may be called from any thread.</para>
/// <para>Buffers are pinned from Submit until the kernel is done with them; a Submitted request cannot be disposed.</para>
/// </remarks>
public sealed class AioRequest : IDisposable
{
    // ---- Life cycle. Written with release semantics by whoever moves the request on (preparer, submitter,
    // reaper, canceller); read with acquire semantics, so a reader that sees Completed also sees the result.
    private int _state = (int)AioRequestState.Completed;
    private bool _disposed;

    // ---- The prepared operation. Written only while the request is not Submitted; read by the engine while it is.
    internal AioOperationKind Kind;
    internal SafeFileHandle? File;
    internal long Offset;
    internal bool DataOnly;
    private Memory<byte> _buffer;            // the only buffer of a non-vectored transfer
    private Memory<byte>[]? _segments;       // reused between vectored prepares; grows, never shrinks
    private int _segmentCount;               // 0 for a flush, 1 for a plain transfer
    private bool _segmentsInArray;
    private object? _userState;

    // ---- Direct I/O facts of the last file prepared, so that preparing the same file again costs no system call.
    private SafeFileHandle? _describedFile;
    private FileIoInfo _describedInfo;
    private int _directMemoryAlignment;      // > 0 when the prepared file is open for direct I/O

    // ---- Pins and the file reference: held from Submit until the request leaves the kernel. One owner: this class.
    private PinSet _pins;

    // ---- The result, valid in Completed.
    private AioStatus _status = AioStatus.Success;
    private long _bytesTransferred;
    private int _errorCode;

    // ---- Engine-owned while Submitted (see Engines/IAioEngine.cs). The contract layer never interprets them.
    /// <summary>The context the request was submitted to; set by Submit, cleared at completion.</summary>
    internal AioContext? Owner;
    /// <summary>Raw outcome stored by the engine before it reports the request (see <see cref="FileAio.EngineResult"/>).</summary>
    internal long EngineResult;
    /// <summary>Engine-private state word (queue position, slot state...).</summary>
    internal int EngineState;
    /// <summary>Engine-private sequence number (submission order, slot generation...).</summary>
    internal long EngineSequence;

    /// <summary>Creates an idle request: <see cref="AioRequestState.Completed"/>, status Success, 0 bytes, no user state.</summary>
    public AioRequest()
    {
    }

    /// <summary>Where the request is in its life. Safe from any thread.</summary>
    public AioRequestState State => (AioRequestState)Volatile.Read(ref _state);

    /// <summary>The user state given to the last <c>Prepare*</c> call, in any state (IPRT's <c>RTFileAioReqGetUser</c>).</summary>
    public object? UserState => _userState;

    /// <summary>The outcome: <see cref="AioStatus.InProgress"/> while Submitted, <see cref="AioStatus.NotSubmitted"/>
    /// while Prepared, else Success, Canceled or Failed.</summary>
    public AioStatus Status => State switch
    {
        AioRequestState.Prepared => AioStatus.NotSubmitted,
        AioRequestState.Submitted => AioStatus.InProgress,
        _ => _status,
    };

    /// <summary>Bytes read or written by the finished operation (64-bit; a short transfer is a success with fewer
    /// bytes). 0 unless the request is Completed.</summary>
    public long BytesTransferred => State == AioRequestState.Completed ? _bytesTransferred : 0;

    /// <summary>The operating system's error number (errno on Unix) when <see cref="Status"/> is Failed; else 0.</summary>
    public int ErrorCode => State == AioRequestState.Completed ? _errorCode : 0;

    /// <summary>A readable description of <see cref="ErrorCode"/>, or <see langword="null"/> when the request did not fail.</summary>
    public string? ErrorMessage => ErrorCode is int e and not 0 ? Marshal.GetPInvokeErrorMessage(e) : null;

    /// <summary>Prepares a read of <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>.</summary>
    /// <remarks>A prepare that throws changes nothing: a request that was Prepared keeps its previous operation.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="file"/> is null.</exception>
    /// <exception cref="ArgumentException">The handle is closed or invalid, the buffer is empty, or the file is open for
    /// direct I/O and the offset or length breaks its alignment rule.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The request is Submitted.</exception>
    /// <exception cref="ObjectDisposedException">The request was disposed.</exception>
    public void PrepareRead(SafeFileHandle file, long offset, Memory<byte> buffer, object? userState = null)
    {
        CheckPreparable(file, offset);
        int memoryAlignment = CheckTransferRule(file, offset, out int lengthAlignment);
        CheckBuffer(buffer.Length, lengthAlignment, nameof(buffer));
        SetSingle(AioOperationKind.Read, file, offset, buffer, memoryAlignment, userState);
    }

    /// <summary>Prepares a write of <paramref name="buffer"/> at <paramref name="offset"/>. Same rules as
    /// <see cref="PrepareRead(SafeFileHandle, long, Memory{byte}, object?)"/>.</summary>
    public void PrepareWrite(SafeFileHandle file, long offset, ReadOnlyMemory<byte> buffer, object? userState = null)
    {
        CheckPreparable(file, offset);
        int memoryAlignment = CheckTransferRule(file, offset, out int lengthAlignment);
        CheckBuffer(buffer.Length, lengthAlignment, nameof(buffer));
        // The engine only reads a write's buffer; the cast gives one storage type for both directions.
        SetSingle(AioOperationKind.Write, file, offset, MemoryMarshal.AsMemory(buffer), memoryAlignment, userState);
    }

    /// <summary>Prepares a vectored read: the buffers are filled in order from <paramref name="offset"/> (<c>preadv</c>).
    /// At most 1024 buffers, none empty. The list is copied; it may be changed after the call.</summary>
    public void PrepareRead(SafeFileHandle file, long offset, IReadOnlyList<Memory<byte>> buffers, object? userState = null) =>
        PrepareVectored(AioOperationKind.Read, file, offset, buffers, static buffer => buffer, userState);

    /// <summary>Prepares a vectored write: the buffers are written in order from <paramref name="offset"/> (<c>pwritev</c>).
    /// At most 1024 buffers, none empty. The list is copied; it may be changed after the call.</summary>
    public void PrepareWrite(SafeFileHandle file, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, object? userState = null) =>
        // The engine only reads a write's buffers; the cast gives one storage type for both directions.
        PrepareVectored(AioOperationKind.Write, file, offset, buffers, static buffer => MemoryMarshal.AsMemory(buffer), userState);

    /// <summary>Prepares a flush: when it completes, every write submitted to the same context before it has completed
    /// and the file's data is durable (<c>fsync</c>, or <c>fdatasync</c> when <paramref name="dataOnly"/>).</summary>
    public void PrepareFlush(SafeFileHandle file, bool dataOnly = false, object? userState = null)
    {
        CheckPreparable(file, 0);
        Kind = AioOperationKind.Flush;
        File = file;
        Offset = 0;
        DataOnly = dataOnly;
        _buffer = default;
        _segmentCount = 0;
        _segmentsInArray = false;
        _directMemoryAlignment = 0;
        _userState = userState;
        Volatile.Write(ref _state, (int)AioRequestState.Prepared);
    }

    /// <summary>
    /// Tries to cancel a Submitted request. See <see cref="AioCancelResult"/>: on <see cref="AioCancelResult.Canceled"/>
    /// the buffer may be reused or freed at once; on <see cref="AioCancelResult.AlreadyCompleted"/> and
    /// <see cref="AioCancelResult.InProgress"/> the request will be reported by <see cref="AioContext.Wait"/>.
    /// Safe from any thread.
    /// </summary>
    public AioCancelResult Cancel()
    {
        AioContext? owner = Volatile.Read(ref Owner);
        if (owner is null || State != AioRequestState.Submitted)
        {
            return AioCancelResult.NotSubmitted;
        }
        return owner.Cancel(this);
    }

    /// <summary>Releases the request. Refused (<see cref="InvalidOperationException"/>) while Submitted, since the kernel
    /// may still use its buffer; always allowed otherwise, and idempotent.</summary>
    public void Dispose()
    {
        if (State == AioRequestState.Submitted)
        {
            ThrowHelper.ThrowRequestInProgress("dispose");
        }
        _disposed = true;
        _buffer = default;
        if (_segments is not null)
        {
            Array.Clear(_segments);
        }
        File = null;
        _describedFile = null;
        _userState = null;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Preparation helpers.

    private void CheckPreparable(SafeFileHandle file, long offset)
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
        if (State == AioRequestState.Submitted)
        {
            ThrowHelper.ThrowRequestInProgress("prepare");
        }
        ArgumentNullException.ThrowIfNull(file);
        if (file.IsClosed)
        {
            ThrowHelper.ThrowArgumentException("The file handle is closed.", nameof(file));
        }
        if (file.IsInvalid)
        {
            ThrowHelper.ThrowArgumentException("The file handle is invalid.", nameof(file));
        }
        if (offset < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(offset), offset, "The file offset must not be negative.");
        }
    }

    private static void CheckBuffer(int length, int lengthAlignment, string paramName)
    {
        if (length == 0)
        {
            ThrowHelper.ThrowArgumentException("A transfer needs a non-empty buffer.", paramName);
        }
        DirectIoRule.CheckLength(length, lengthAlignment, paramName);
    }

    private static int CheckSegmentCount(int count)
    {
        if (count is 0 or > Interop.LinuxConstants.IOV_MAX)
        {
            ThrowHelper.ThrowArgumentException(
                $"A vectored transfer takes 1 to {Interop.LinuxConstants.IOV_MAX} buffers; {count} were given.", "buffers");
        }
        return count;
    }

    /// <summary>
    /// Direct I/O needs an aligned offset and aligned lengths; say which rule broke instead of letting the kernel
    /// answer a bare EINVAL. Returns the memory alignment buffers must have (0 when the file is not open for direct
    /// I/O; addresses are checked when they are pinned, at submit) and gives the length alignment (1 when not direct).
    /// </summary>
    private int CheckTransferRule(SafeFileHandle file, long offset, out int lengthAlignment)
    {
        if (!ReferenceEquals(file, _describedFile))
        {
            _describedInfo = FileIoInfo.Of(file);
            _describedFile = file;
        }
        if (!_describedInfo.IsDirect)
        {
            lengthAlignment = 1;
            return 0;
        }

        AioAlignment alignment = _describedInfo.Alignment;
        DirectIoRule.CheckOffset(offset, alignment, nameof(offset));
        lengthAlignment = alignment.LengthAlignment;
        return alignment.MemoryAlignment;
    }

    private void PrepareVectored<TMemory>(AioOperationKind kind, SafeFileHandle file, long offset,
        IReadOnlyList<TMemory> buffers, Func<TMemory, Memory<byte>> asMemory, object? userState)
    {
        CheckPreparable(file, offset);
        ArgumentNullException.ThrowIfNull(buffers);
        int count = CheckSegmentCount(buffers.Count);
        int memoryAlignment = CheckTransferRule(file, offset, out int lengthAlignment);
        for (int i = 0; i < count; i++)
        {
            CheckBuffer(asMemory(buffers[i]).Length, lengthAlignment, nameof(buffers));
        }
        // Only now, with every argument checked, is the previous preparation overwritten.
        Memory<byte>[] segments = RentSegments(count);
        for (int i = 0; i < count; i++)
        {
            segments[i] = asMemory(buffers[i]);
        }
        SetVectored(kind, file, offset, count, memoryAlignment, userState);
    }

    private Memory<byte>[] RentSegments(int count)
    {
        if (_segments is null || _segments.Length < count)
        {
            _segments = new Memory<byte>[Math.Max(count, 4)];
        }
        return _segments;
    }

    private void SetSingle(AioOperationKind kind, SafeFileHandle file, long offset, Memory<byte> buffer, int memoryAlignment, object? userState)
    {
        _buffer = buffer;
        _segmentCount = 1;
        _segmentsInArray = false;
        Commit(kind, file, offset, memoryAlignment, userState);
    }

    private void SetVectored(AioOperationKind kind, SafeFileHandle file, long offset, int count, int memoryAlignment, object? userState)
    {
        _buffer = default;
        _segmentCount = count;
        _segmentsInArray = true;
        Commit(kind, file, offset, memoryAlignment, userState);
    }

    private void Commit(AioOperationKind kind, SafeFileHandle file, long offset, int memoryAlignment, object? userState)
    {
        Kind = kind;
        File = file;
        Offset = offset;
        DataOnly = false;
        _directMemoryAlignment = memoryAlignment;
        _userState = userState;
        Volatile.Write(ref _state, (int)AioRequestState.Prepared);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Used by AioContext (state) and by the engines (the operation's memory), while the request is Submitted.

    /// <summary>How many buffers the operation has: 0 for a flush, 1 for a plain transfer, more when vectored.</summary>
    internal int SegmentCount => _segmentCount;

    internal Memory<byte> Segment(int index) => _segmentsInArray ? _segments![index] : _buffer;

    /// <summary>The address of buffer <paramref name="index"/>; valid only while the request is pinned (Submitted).</summary>
    internal unsafe byte* SegmentPointer(int index) =>
        (byte*)(index == 0 ? _pins.First.Pointer : _pins.Rest![index - 1].Pointer);

    /// <summary>Moves Prepared → Submitted atomically, so that a request in two batches (or twice in one) is caught.</summary>
    internal bool TryClaim() =>
        Interlocked.CompareExchange(ref _state, (int)AioRequestState.Submitted, (int)AioRequestState.Prepared)
            == (int)AioRequestState.Prepared;

    /// <summary>Undoes <see cref="TryClaim"/> for a request that was not handed to the engine.</summary>
    internal void Unclaim()
    {
        Owner = null;
        Volatile.Write(ref _state, (int)AioRequestState.Prepared);
    }

    internal bool IsDisposed => _disposed;

    /// <summary>
    /// Pins every buffer and takes a reference on the file handle, so the kernel may use both until completion, and
    /// checks the direct I/O address rule. On any failure nothing stays held and the exception propagates (a handle
    /// closed since prepare gives <see cref="ObjectDisposedException"/>).
    /// </summary>
    internal unsafe void Pin()
    {
        try
        {
            bool added = false;
            File!.DangerousAddRef(ref added);
            _pins.File = File;
            for (int i = 0; i < _segmentCount; i++)
            {
                MemoryHandle handle = Segment(i).Pin();
                if (i == 0)
                {
                    _pins.First = handle;
                }
                else
                {
                    if (_pins.Rest is null || _pins.Rest.Length < _segmentCount - 1)
                    {
                        _pins.Rest = new MemoryHandle[Math.Max(_segmentCount - 1, 4)];
                    }
                    _pins.Rest[i - 1] = handle;
                }
                _pins.Count = i + 1;

                DirectIoRule.CheckAddress(handle.Pointer, _directMemoryAlignment, "buffer");
            }
        }
        catch
        {
            Unpin();
            throw;
        }
    }

    /// <summary>Releases what <see cref="Pin"/> took; nothing when the pins were detached or never taken.</summary>
    internal void Unpin() => _pins.Release();

    /// <summary>Finishes a request the engine reported (or cancelled): result from <see cref="EngineResult"/>,
    /// buffers unpinned, state Completed (published last).</summary>
    internal void Complete(long engineResult)
    {
        if (engineResult >= 0)
        {
            SetResult(AioStatus.Success, engineResult, 0);
        }
        else if (engineResult == FileAio.EngineResult.Canceled)
        {
            SetResult(AioStatus.Canceled, 0, 0);
        }
        else
        {
            SetResult(AioStatus.Failed, 0, (int)-engineResult);
        }
    }

    private void SetResult(AioStatus status, long bytes, int errorCode)
    {
        Unpin();
        _status = status;
        _bytesTransferred = bytes;
        _errorCode = errorCode;
        Owner = null;
        Volatile.Write(ref _state, (int)AioRequestState.Completed);
    }
}
