namespace FileAio.Tests.Model;

/// <summary>What a request of the pool holds and where it is in its life, as the model sees it.</summary>
internal enum ModelOperation
{
    None,
    Read,
    Write,
    Flush,
    HeldRead,
    HeldWrite,
}

/// <summary>What a Cancel already told about a Submitted request: it constrains every later answer and what Wait
/// may report (SPEC §3: InProgress and AlreadyCompleted promise a report by Wait).</summary>
internal enum CancelAnswerSeen
{
    None,
    InProgress,
    AlreadyCompleted,
}

/// <summary>One request of the pool: its real object, its buffers, and the model of its state and result.</summary>
internal sealed class RequestModel(int index, int readBufferLength)
{
    /// <summary>What a read's buffer holds before the kernel writes it: a cancelled read's buffer must still hold it.</summary>
    public const byte Untouched = 0xEE;

    public int Index { get; } = index;

    public AioRequest Request { get; } = new();

    /// <summary>This request's read buffer (the whole array; a read uses its first Length bytes).</summary>
    public byte[] ReadBuffer { get; } = new byte[readBufferLength];

    public AioRequestState State { get; set; } = AioRequestState.Completed;

    /// <summary>The prepared (or last) operation and its arguments.</summary>
    public ModelOperation Operation { get; set; }
    public long Offset { get; set; }
    public int Length { get; set; }
    public byte[] WriteData { get; set; } = [];
    public object? UserState { get; set; }

    /// <summary>Set at submit: the file region it touches, and its place in submission order.</summary>
    public Region Region { get; set; }
    public long SubmitSerial { get; set; }

    /// <summary>A flush's writes: those in flight when it was submitted (SPEC §3: it completes only after them), each
    /// with its submission's serial, since a request may be reused for something else once it finished.</summary>
    public List<(RequestModel Write, long Serial)> WritesBefore { get; } = [];

    /// <summary>The flush's writes still in flight in the submission it waited for.</summary>
    public IEnumerable<RequestModel> WritesBeforeInFlight =>
        WritesBefore.Where(w => w.Write.State == AioRequestState.Submitted && w.Write.SubmitSerial == w.Serial).Select(w => w.Write);

    public CancelAnswerSeen CancelSeen { get; set; }

    /// <summary>Known to have finished in the kernel though not reaped (a flush submitted after it completed), so a
    /// Cancel can only answer AlreadyCompleted.</summary>
    public bool KnownFinished { get; set; }

    /// <summary>The result a Completed request must show.</summary>
    public AioStatus Status { get; set; } = AioStatus.Success;
    public long BytesTransferred { get; set; }

    public bool IsHeld => Operation is ModelOperation.HeldRead or ModelOperation.HeldWrite;

    public bool IsWrite => Operation is ModelOperation.Write or ModelOperation.HeldWrite;

    /// <summary>Whether the kernel can finish it without help: a held operation only once a cancel reached it, a
    /// flush only once no held write submitted before it is still waiting.</summary>
    public bool CanFinish => Operation switch
    {
        ModelOperation.HeldRead or ModelOperation.HeldWrite => CancelSeen != CancelAnswerSeen.None,
        ModelOperation.Flush => !WritesBeforeInFlight.Any(w => !w.CanFinish),
        _ => true,
    };

    public override string ToString() => Operation switch
    {
        ModelOperation.Read => $"r{Index} (read {Length} at {Offset})",
        ModelOperation.Write => $"r{Index} (write {Length} at {Offset})",
        ModelOperation.Flush => $"r{Index} (flush)",
        ModelOperation.HeldRead => $"r{Index} (held read)",
        ModelOperation.HeldWrite => $"r{Index} (held write)",
        _ => $"r{Index} (new)",
    };
}

/// <summary>
/// The model of one context and its file: each request's state, what the file holds, how many requests are
/// outstanding and how many wakeups may be pending. The runner asks it what is allowed and tells it what happened.
/// </summary>
internal sealed class ContextModel
{
    private long _nextSerial;

    public ContextModel(ContextSequence sequence, int fileSeed)
    {
        File = new ExpectedFile(sequence.InitialLength, fileSeed);
        Requests = Enumerable.Range(0, sequence.Requests).Select(i => new RequestModel(i, ContextSequence.MaxLength)).ToArray();
        Capacity = sequence.Capacity;
    }

    public ExpectedFile File { get; }

    public RequestModel[] Requests { get; }

    public int Capacity { get; }

    public int Outstanding => Requests.Count(r => r.State == AioRequestState.Submitted);

    /// <summary>Wakeups that may be pending: at least <see cref="WakeupsAtLeast"/> (the next Wait must be
    /// Interrupted when it is 1 or more), at most <see cref="WakeupsAtMost"/> (several before a Wait may coalesce).</summary>
    public int WakeupsAtLeast { get; private set; }
    public int WakeupsAtMost { get; private set; }

    public IEnumerable<RequestModel> InFlight => Requests.Where(r => r.State == AioRequestState.Submitted);

    /// <summary>How many of the outstanding requests the kernel will finish without help: the most any Wait can get.</summary>
    public int CanFinishCount => InFlight.Count(r => r.CanFinish);

    /// <summary>Whether a transfer of <paramref name="candidate"/> would touch bytes that an operation in flight (or
    /// one chosen earlier for the same batch) also touches, where at least one of them writes.</summary>
    public bool Conflicts(RequestModel candidate, IEnumerable<RequestModel> alsoChosen)
    {
        if (candidate.Operation is not (ModelOperation.Read or ModelOperation.Write))
        {
            return false;
        }
        Region region = RegionOf(candidate);
        return InFlight.Concat(alsoChosen).Any(other =>
            other.Operation is ModelOperation.Read or ModelOperation.Write
            && (candidate.IsWrite || other.IsWrite)
            && region.Overlaps(other.State == AioRequestState.Submitted ? other.Region : RegionOf(other)));
    }

    private Region RegionOf(RequestModel request) => File.RegionOf(request.Offset, request.Length, request.IsWrite);

    /// <summary>The request was accepted by Submit: it is in flight, after every request submitted before it.</summary>
    public void Submitted(RequestModel request)
    {
        request.State = AioRequestState.Submitted;
        request.SubmitSerial = _nextSerial++;
        request.CancelSeen = CancelAnswerSeen.None;
        request.KnownFinished = false;
        request.WritesBefore.Clear();
        if (request.Operation is ModelOperation.Read or ModelOperation.Write)
        {
            request.Region = RegionOf(request);
        }
        if (request.Operation == ModelOperation.Flush)
        {
            request.WritesBefore.AddRange(InFlight.Where(r => r.IsWrite && r != request).Select(r => (r, r.SubmitSerial)));
        }
    }

    /// <summary>The request left the context (reported by Wait, cancelled, or finished by Dispose) with this result.</summary>
    public void Finished(RequestModel request, AioStatus status, long bytes)
    {
        request.State = AioRequestState.Completed;
        request.Status = status;
        request.BytesTransferred = bytes;
        if (status == AioStatus.Success && request.Operation == ModelOperation.Write)
        {
            File.Apply(request.Offset, request.WriteData);
        }
    }

    public void WakeupCalled()
    {
        WakeupsAtLeast = Math.Max(WakeupsAtLeast, 1);
        WakeupsAtMost++;
    }

    /// <summary>A Wait returned: Interrupted consumes one pending wakeup; any other reason is allowed only when none
    /// is surely pending, and shows that none was.</summary>
    public string? WaitReturned(AioWaitReason reason)
    {
        if (reason == AioWaitReason.Interrupted)
        {
            if (WakeupsAtMost == 0)
            {
                return "Wait returned Interrupted, but no Wakeup was pending (a wakeup reported twice, or a stray one)";
            }
            WakeupsAtMost--;
            WakeupsAtLeast = Math.Max(0, WakeupsAtLeast - 1);
            return null;
        }
        if (WakeupsAtLeast > 0)
        {
            return $"Wait returned {reason} although a Wakeup was pending (SPEC §3: the next Wait returns Interrupted; a wakeup is never lost)";
        }
        WakeupsAtMost = 0;
        return null;
    }
}
