using CsCheck;

namespace FileAio.Tests.Model;

/// <summary>How an operation's cancellation token behaves: none, cancelled before the call, or cancellable by a
/// later <see cref="CancelTokenStep"/> (which may come before or after the operation finishes, or never).</summary>
internal enum TokenPlan
{
    None,
    CancelledBeforeTheCall,
    CancelLater,
}

/// <summary>One step of an <see cref="AioFile"/> sequence, as generated. Operations are started and left in flight;
/// later steps await or cancel them, picked by number among those still in flight.</summary>
internal abstract record FileStep;

internal sealed record StartReadStep(long Offset, int Length, TokenPlan Token) : FileStep
{
    public override string ToString() => $"ReadAsync(offset {Offset}, {Length} bytes, token {Token})";
}

internal sealed record StartWriteStep(long Offset, int Length, byte Fill, TokenPlan Token) : FileStep
{
    public override string ToString() => $"WriteAsync(offset {Offset}, {Length} bytes, fill {Fill}, token {Token})";
}

internal sealed record StartFlushStep(bool DataOnly, TokenPlan Token) : FileStep
{
    public override string ToString() => $"FlushAsync(dataOnly {DataOnly}, token {Token})";
}

/// <summary>A read of an empty FIFO (another <see cref="AioFile"/> on the same host): it ends only when its token is
/// cancelled or its file disposed, with <see cref="OperationCanceledException"/> and its buffer untouched.</summary>
internal sealed record StartHeldReadStep(bool Cancellable) : FileStep
{
    public override string ToString() => $"ReadAsync(empty FIFO, {(Cancellable ? "cancellable" : "no token")})";
}

/// <summary>Await the in-flight operation number <c>Pick % count</c> (among those that can end on their own, or
/// whose token was cancelled).</summary>
internal sealed record AwaitStep(int Pick) : FileStep
{
    public override string ToString() => $"Await(pick {Pick})";
}

/// <summary>Cancel the token of in-flight operation number <c>Pick % count</c> (among those with a token not yet cancelled).</summary>
internal sealed record CancelTokenStep(int Pick) : FileStep
{
    public override string ToString() => $"CancelToken(pick {Pick})";
}

/// <summary>A whole generated sequence: the file's initial length, the steps, and how it ends — every operation
/// awaited and then the file disposed, or the file disposed with operations in flight (SPEC §4: Dispose cancels them
/// and returns even when one could never finish).</summary>
internal sealed record FileSequence(int InitialLength, bool DisposeInFlight, FileStep[] Steps)
{
    public string Describe() =>
        $"file of {InitialLength} bytes, ends by {(DisposeInFlight ? "DisposeAsync with operations in flight" : "awaiting everything, then DisposeAsync")}; " +
        $"steps:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", Steps.Select((s, i) => $"{i,2}: {s}"));

    // Before Generator, which uses it: static properties are initialised in order.
    private static Gen<FileStep> Step { get; } = CreateStep();

    public static Gen<FileSequence> Generator { get; } =
        from initialLength in Gen.OneOf(0, 3_000, 8_192)
        from disposeInFlight in Gen.Frequency((2, Gen.Const(false)), (1, Gen.Const(true)))
        from steps in Step.Array[1, 30]
        select new FileSequence(initialLength, disposeInFlight, steps);

    private static Gen<FileStep> CreateStep()
    {
        Gen<long> offset = Gen.Long[0, ContextSequence.MaxOffset];
        Gen<int> length = Gen.Int[1, ContextSequence.MaxLength];
        Gen<TokenPlan> token = Gen.Frequency(
            (6, Gen.Const(TokenPlan.None)), (1, Gen.Const(TokenPlan.CancelledBeforeTheCall)), (3, Gen.Const(TokenPlan.CancelLater)));
        return Gen.Frequency<FileStep>(
            (5, Gen.Select(offset, length, token, (o, l, t) => (FileStep)new StartReadStep(o, l, t))),
            (5, Gen.Select(offset, length, Gen.Byte[1, 255], token, (o, l, f, t) => (FileStep)new StartWriteStep(o, l, f, t))),
            (1, Gen.Select(Gen.Bool, token, (d, t) => (FileStep)new StartFlushStep(d, t))),
            (1, Gen.Bool.Select(c => (FileStep)new StartHeldReadStep(c))),
            (6, Gen.Int[0, 15].Select(p => (FileStep)new AwaitStep(p))),
            (2, Gen.Int[0, 15].Select(p => (FileStep)new CancelTokenStep(p))));
    }
}
