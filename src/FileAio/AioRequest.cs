using System.Runtime.InteropServices;
using FileAio.Engines;
using FileAio.Interop;
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
/// <para>The operation itself — kind, file, offset, buffers, pins — is kept in an internal operation that the engines
/// see; this class adds the contract around it: the checks at prepare, the state machine and the result.</para>
/// </remarks>
public sealed class AioRequest : IDisposable
{
    // ---- Life cycle. Written with release semantics by whoever moves the request on (preparer, submitter,
    // reaper, canceller); read with acquire semantics, so a reader that sees Completed also sees the result.
    private int _state = (int)AioRequestState.Completed;
    private bool _disposed;
    private bool _cancelAsked;      // a Cancel reached the engine in this life (from Submit to Completed)
    private object? _userState;

    // ---- Direct I/O facts of the last file prepared, so that preparing the same file again costs no system call.
    private SafeFileHandle? _describedFile;
    private FileFacts? _describedFacts;

    // ---- The result, valid in Completed.
    private AioStatus _status = AioStatus.Success;
    private long _bytesTransferred;
    private int _errorCode;

    /// <summary>Creates an idle request: <see cref="AioRequestState.Completed"/>, status Success, 0 bytes, no user state.</summary>
    public AioRequest()
    {
        Operation = new IoOperation(this);
    }

    /// <summary>What the engines see of this request; described by Prepare*, pinned by Submit (see
    /// <see cref="IoOperation"/>). One owner at a time: this request while not Submitted, its engine while it is.</summary>
    internal IoOperation Operation { get; }

    /// <summary>The context the request was submitted to; set by Submit, cleared at completion.</summary>
    internal AioContext? Owner;

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
        FileFacts facts = CheckTransferRule(file, offset);
        CheckBuffer(buffer.Length, facts, nameof(buffer));
        Operation.SetTransfer(OperationKind.Read, file, facts.Traits, offset, buffer, MemoryAlignment(facts));
        Commit(userState);
    }

    /// <summary>Prepares a write of <paramref name="buffer"/> at <paramref name="offset"/>. Same rules as
    /// <see cref="PrepareRead(SafeFileHandle, long, Memory{byte}, object?)"/>.</summary>
    public void PrepareWrite(SafeFileHandle file, long offset, ReadOnlyMemory<byte> buffer, object? userState = null)
    {
        CheckPreparable(file, offset);
        FileFacts facts = CheckTransferRule(file, offset);
        CheckBuffer(buffer.Length, facts, nameof(buffer));
        // The engine only reads a write's buffer; the cast gives one storage type for both directions.
        Operation.SetTransfer(OperationKind.Write, file, facts.Traits, offset, MemoryMarshal.AsMemory(buffer), MemoryAlignment(facts));
        Commit(userState);
    }

    /// <summary>Prepares a vectored read: the buffers are filled in order from <paramref name="offset"/> (<c>preadv</c>).
    /// At most 1024 buffers, none empty. The list is copied; it may be changed after the call.</summary>
    public void PrepareRead(SafeFileHandle file, long offset, IReadOnlyList<Memory<byte>> buffers, object? userState = null) =>
        PrepareVectored(OperationKind.Read, file, offset, buffers, static buffer => buffer, userState);

    /// <summary>Prepares a vectored write: the buffers are written in order from <paramref name="offset"/> (<c>pwritev</c>).
    /// At most 1024 buffers, none empty. The list is copied; it may be changed after the call.</summary>
    public void PrepareWrite(SafeFileHandle file, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, object? userState = null) =>
        // The engine only reads a write's buffers; the cast gives one storage type for both directions.
        PrepareVectored(OperationKind.Write, file, offset, buffers, static buffer => MemoryMarshal.AsMemory(buffer), userState);

    /// <summary>Prepares a flush: when it completes, every write submitted to the same context before it has completed
    /// and the file's data is durable (<c>fsync</c>, or <c>fdatasync</c> when <paramref name="dataOnly"/>).</summary>
    public void PrepareFlush(SafeFileHandle file, bool dataOnly = false, object? userState = null)
    {
        CheckPreparable(file, 0);
        Operation.SetFlush(file, Describe(file).Traits, dataOnly);
        Commit(userState);
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
        Operation.Clear();
        _describedFile = null;
        _describedFacts = null;
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

    private static void CheckBuffer(int length, FileFacts facts, string paramName)
    {
        if (length == 0)
        {
            ThrowHelper.ThrowArgumentException("A transfer needs a non-empty buffer.", paramName);
        }
        if (facts.IsDirect)
        {
            DirectIoRule.CheckLength(length, facts.Alignment.Offset, paramName);
        }
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

    /// <summary>What FileAio knows of the file (learned once per handle; remembered here for the last one).</summary>
    private FileFacts Describe(SafeFileHandle file)
    {
        if (!ReferenceEquals(file, _describedFile))
        {
            _describedFacts = FileFacts.Of(file);
            _describedFile = file;
        }
        return _describedFacts!;
    }

    /// <summary>
    /// Direct I/O needs an aligned offset and aligned lengths; say which rule broke instead of letting the kernel
    /// answer a bare EINVAL. (Addresses are checked when they are pinned, at submit.)
    /// </summary>
    private FileFacts CheckTransferRule(SafeFileHandle file, long offset)
    {
        FileFacts facts = Describe(file);
        if (facts.IsDirect)
        {
            DirectIoRule.CheckOffset(offset, facts.Alignment.Offset, nameof(offset));
        }
        return facts;
    }

    /// <summary>The address rule the buffers must keep: 0 when the file is not open for direct I/O.</summary>
    private static int MemoryAlignment(FileFacts facts) => facts.IsDirect ? facts.Alignment.Memory : 0;

    private void PrepareVectored<TMemory>(OperationKind kind, SafeFileHandle file, long offset,
        IReadOnlyList<TMemory> buffers, Func<TMemory, Memory<byte>> asMemory, object? userState)
    {
        CheckPreparable(file, offset);
        ArgumentNullException.ThrowIfNull(buffers);
        int count = CheckSegmentCount(buffers.Count);
        FileFacts facts = CheckTransferRule(file, offset);
        for (int i = 0; i < count; i++)
        {
            CheckBuffer(asMemory(buffers[i]).Length, facts, nameof(buffers));
        }
        // Only now, with every argument checked, is the previous preparation overwritten.
        Memory<byte>[] segments = Operation.RentSegments(count);
        for (int i = 0; i < count; i++)
        {
            segments[i] = asMemory(buffers[i]);
        }
        Operation.SetVectored(kind, file, facts.Traits, offset, count, MemoryAlignment(facts));
        Commit(userState);
    }

    private void Commit(object? userState)
    {
        _userState = userState;
        Volatile.Write(ref _state, (int)AioRequestState.Prepared);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Used by AioContext, while the request moves through Submitted.

    /// <summary>Moves Prepared → Submitted atomically, so that a request in two batches (or twice in one) is caught.</summary>
    internal bool TryClaim()
    {
        if (Interlocked.CompareExchange(ref _state, (int)AioRequestState.Submitted, (int)AioRequestState.Prepared)
            != (int)AioRequestState.Prepared)
        {
            return false;
        }
        Volatile.Write(ref _cancelAsked, false); // a new life: no cancel has reached it yet
        return true;
    }

    /// <summary>Undoes <see cref="TryClaim"/> for a request that was not handed to the engine.</summary>
    internal void Unclaim()
    {
        Owner = null;
        Volatile.Write(ref _state, (int)AioRequestState.Prepared);
    }

    internal bool IsDisposed => _disposed;

    /// <summary>Finishes a request the engine gave back (reaped or cancelled): result from the operation's outcome,
    /// buffers unpinned, state Completed (published last).</summary>
    /// <summary>A Cancel reached the engine for this life of the request.</summary>
    internal void NoteCancelAsked() => Volatile.Write(ref _cancelAsked, true);

    internal void Complete(long result)
    {
        Operation.Unpin();
        if (result >= 0)
        {
            SetResult(AioStatus.Success, result, 0);
        }
        else if (result == OperationResult.Canceled || (result == -Errno.ECANCELED && Volatile.Read(ref _cancelAsked)))
        {
            // -ECANCELED after a Cancel of this life: the kernel (or a worker) stopped it after Cancel had answered
            // InProgress; Wait reports it, as promised, and its status says what happened (no bytes moved). An
            // ECANCELED no one asked for (a FUSE server's answer, say) stays an error with its errno.

            SetResult(AioStatus.Canceled, 0, 0);
        }
        else
        {
            SetResult(AioStatus.Failed, 0, (int)-result);
        }
    }

    private void SetResult(AioStatus status, long bytes, int errorCode)
    {
        _status = status;
        _bytesTransferred = bytes;
        _errorCode = errorCode;
        Owner = null;
        Volatile.Write(ref _state, (int)AioRequestState.Completed);
    }
}
