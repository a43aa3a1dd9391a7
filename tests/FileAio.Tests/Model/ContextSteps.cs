using CsCheck;

namespace FileAio.Tests.Model;

/// <summary>One step of a context sequence, as generated: what to do, never what must happen (the model decides that
/// from the state the sequence reached). Request numbers index the sequence's pool of reusable requests.</summary>
internal abstract record ContextStep;

/// <summary>Prepare a read of the file (any offset: reads past the end are short or empty).</summary>
internal sealed record PrepareReadStep(int Request, long Offset, int Length) : ContextStep
{
    public override string ToString() => $"r{Request}.PrepareRead(offset {Offset}, {Length} bytes)";
}

/// <summary>Prepare a write of the file; <paramref name="Fill"/> chooses its bytes (<see cref="ExpectedFile.WriteData"/>).</summary>
internal sealed record PrepareWriteStep(int Request, long Offset, int Length, byte Fill) : ContextStep
{
    public override string ToString() => $"r{Request}.PrepareWrite(offset {Offset}, {Length} bytes, fill {Fill})";
}

internal sealed record PrepareFlushStep(int Request, bool DataOnly) : ContextStep
{
    public override string ToString() => $"r{Request}.PrepareFlush(dataOnly {DataOnly})";
}

/// <summary>Prepare a read of an empty FIFO or a write into a full one: once submitted, it stays in the kernel until
/// cancelled (a held write also holds back every flush submitted after it).</summary>
internal sealed record PrepareHeldStep(int Request, bool Write) : ContextStep
{
    public override string ToString() => $"r{Request}.PrepareHeld{(Write ? "Write" : "Read")}()";
}

/// <summary>Submit up to <paramref name="Count"/> Prepared requests in one batch, taken in pool order from
/// <paramref name="First"/> on (skipping any whose file region an operation in flight also touches).</summary>
internal sealed record SubmitStep(int First, int Count) : ContextStep
{
    public override string ToString() => $"Submit(from r{First}, up to {Count})";
}

/// <summary>Submit a batch that must be refused whole: Prepared requests plus one that is not Prepared, or one twice.</summary>
internal sealed record SubmitInvalidStep(int Count, int Intruder, bool Duplicate) : ContextStep
{
    public override string ToString() => Duplicate ? $"SubmitWithADuplicate(up to {Count})" : $"SubmitWithAnIntruder(up to {Count}, pick {Intruder})";
}

internal enum WaitTimeout
{
    Poll,
    OneMillisecond,
    FiveMilliseconds,
    /// <summary>Long enough for anything that can finish (<see cref="ModelBudget.MustEndWithin"/>): used only when the
    /// model knows enough requests will finish, or a wakeup is pending; otherwise the step waits 1 ms.</summary>
    UntilDone,
}

/// <summary>Wait for <paramref name="Min"/> completions into a span of max(Min, 1) + <paramref name="ExtraRoom"/> entries.</summary>
internal sealed record WaitStep(int Min, WaitTimeout Timeout, int ExtraRoom) : ContextStep
{
    public override string ToString() => $"Wait(min {Min}, {Timeout}, room +{ExtraRoom})";
}

internal sealed record WakeupStep : ContextStep
{
    public override string ToString() => "Wakeup()";
}

/// <summary>A Wait that nothing can satisfy, ended by a Wakeup from another thread a moment after it blocked.</summary>
internal sealed record WaitWokenFromAnotherThreadStep(int ExtraRoom) : ContextStep
{
    public override string ToString() => $"WaitWokenFromAnotherThread(room +{ExtraRoom})";
}

internal sealed record CancelStep(int Request) : ContextStep
{
    public override string ToString() => $"r{Request}.Cancel()";
}

/// <summary>A whole generated sequence: how the context and the file are set up, the steps, and how it ends (drained
/// and verified, or disposed with requests in flight, then verified).</summary>
internal sealed record ContextSequence(int Capacity, bool WaitWithoutPendingRequests, int Requests, int InitialLength,
    bool EndByDispose, ContextStep[] Steps)
{
    public string Describe() =>
        $"capacity {Capacity}, WaitWithoutPendingRequests {WaitWithoutPendingRequests}, {Requests} requests, file of " +
        $"{InitialLength} bytes, ends by {(EndByDispose ? "Dispose" : "drain")}; steps:{Environment.NewLine}  " +
        string.Join(Environment.NewLine + "  ", Steps.Select((s, i) => $"{i,2}: {s}"));

    /// <summary>Largest file offset a step uses, and the longest transfer: the file stays within 16 KiB.</summary>
    public const long MaxOffset = 12_288;

    public const int MaxLength = 3_000;

    public static Gen<ContextSequence> Generator { get; } =
        from requests in Gen.Int[2, 10]
        from capacity in Gen.OneOf(1, 2, 4, 8, 16)
        from waitWithoutPending in Gen.Frequency((4, Gen.Const(false)), (1, Gen.Const(true)))
        from initialLength in Gen.OneOf(0, 3_000, 8_192)
        from endByDispose in Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true)))
        from steps in Step(requests).Array[1, 40]
        select new ContextSequence(capacity, waitWithoutPending, requests, initialLength, endByDispose, steps);

    private static Gen<ContextStep> Step(int requests)
    {
        Gen<int> request = Gen.Int[0, requests - 1];
        Gen<long> offset = Gen.Long[0, MaxOffset];
        Gen<int> length = Gen.Int[1, MaxLength];
        return Gen.Frequency<ContextStep>(
            (5, Gen.Select(request, offset, length, (r, o, l) => (ContextStep)new PrepareReadStep(r, o, l))),
            (5, Gen.Select(request, offset, length, Gen.Byte[1, 255], (r, o, l, f) => (ContextStep)new PrepareWriteStep(r, o, l, f))),
            (1, Gen.Select(request, Gen.Bool, (r, d) => (ContextStep)new PrepareFlushStep(r, d))),
            (2, Gen.Select(request, Gen.Bool, (r, w) => (ContextStep)new PrepareHeldStep(r, w))),
            (6, Gen.Select(request, Gen.Int[1, 6], (f, c) => (ContextStep)new SubmitStep(f, c))),
            (1, Gen.Select(Gen.Int[0, 3], Gen.Int[0, requests - 1], Gen.Bool, (c, i, d) => (ContextStep)new SubmitInvalidStep(c, i, d))),
            (6, Gen.Select(Gen.Int[0, 4], Gen.Enum<WaitTimeout>(), Gen.Int[0, 4], (m, t, e) => (ContextStep)new WaitStep(m, t, e))),
            (1, Gen.Const<ContextStep>(new WakeupStep())),
            (1, Gen.Int[0, 3].Select(e => (ContextStep)new WaitWokenFromAnotherThreadStep(e))),
            (3, request.Select(r => (ContextStep)new CancelStep(r))));
    }
}
