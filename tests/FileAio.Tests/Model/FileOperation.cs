namespace FileAio.Tests.Model;

internal enum FileOperationKind
{
    Read,
    Write,
    Flush,
    HeldRead,
}

/// <summary>
/// One started <see cref="AioFile"/> operation, as the model keeps it until it is awaited: what it was asked to do,
/// its buffer, its token, the file region it depends on or changes, and its value task (consumed once, when awaited).
/// </summary>
internal sealed class FileOperation : IDisposable
{
    public required int Number { get; init; }
    public required FileOperationKind Kind { get; init; }
    public long Offset { get; init; }
    public int Length { get; init; }

    /// <summary>A write's bytes.</summary>
    public byte[] Data { get; init; } = [];

    /// <summary>A read's buffer, filled with <see cref="RequestModel.Untouched"/> before the call.</summary>
    public byte[] Buffer { get; init; } = [];

    public Region Region { get; init; }

    public CancellationTokenSource? Token { get; init; }

    /// <summary>The token was cancelled before the call: the call must do nothing (SPEC §4).</summary>
    public bool CanceledBeforeTheCall { get; init; }

    /// <summary>The test cancelled the token (before the call, or while the operation was in flight).</summary>
    public bool CancelRequested { get; set; }

    /// <summary>The call itself threw (it may, for a token cancelled before it); the task is then not used.</summary>
    public Exception? ThrownAtTheCall { get; set; }

    public ValueTask<int> Transfer { get; set; }

    public ValueTask Flush { get; set; }

    /// <summary>Whether it can end without the test doing anything more: everything but a held read whose token was
    /// not cancelled.</summary>
    public bool CanEndOnItsOwn => Kind != FileOperationKind.HeldRead || CancelRequested;

    public bool TouchesTheFile => Kind is FileOperationKind.Read or FileOperationKind.Write;

    /// <summary>Awaits the operation's value task once (bounded), and returns its byte count or what it threw.</summary>
    public async Task<(int Bytes, Exception? Error)> OutcomeAsync()
    {
        if (ThrownAtTheCall is not null)
        {
            return (0, ThrownAtTheCall);
        }
        Task<int> task = Kind == FileOperationKind.Flush ? FlushAsTask() : Transfer.AsTask();
        if (!await Infrastructure.Bounded.EndsWithin(task, ModelBudget.MustEndWithin))
        {
            throw new ModelViolation($"{this} did not end within {ModelBudget.MustEndWithin.TotalSeconds:0} s.");
        }
        try
        {
            return (await task, null);
        }
        catch (Exception e)
        {
            return (0, e);
        }
    }

    private async Task<int> FlushAsTask()
    {
        await Flush;
        return 0;
    }

    public override string ToString() => Kind switch
    {
        FileOperationKind.Read => $"#{Number} read of {Length} at {Offset}",
        FileOperationKind.Write => $"#{Number} write of {Length} at {Offset}",
        FileOperationKind.Flush => $"#{Number} flush",
        _ => $"#{Number} read of the empty FIFO",
    } + (CancelRequested ? " (token cancelled)" : "");

    public void Dispose() => Token?.Dispose();
}
