using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Model;

// The steps: start operations (checking first that no operation in flight touches the same bytes), cancel tokens,
// await operations, and check each outcome against the model.
internal sealed partial class FileRun
{
    private void StartRead(long offset, int length, TokenPlan plan)
    {
        var buffer = new byte[length];
        buffer.AsSpan().Fill(RequestModel.Untouched);
        Start(FileOperationKind.Read, offset, length, [], buffer, plan,
            (operation, token) => operation.Transfer = _file.ReadAsync(buffer, offset, token));
    }

    private void StartWrite(long offset, byte[] data, TokenPlan plan) =>
        Start(FileOperationKind.Write, offset, data.Length, data, [], plan,
            (operation, token) => operation.Transfer = _file.WriteAsync(data, offset, token));

    private void StartFlush(bool dataOnly, TokenPlan plan) =>
        Start(FileOperationKind.Flush, 0, 0, [], [], plan,
            (operation, token) => operation.Flush = _file.FlushAsync(dataOnly, token));

    private void StartHeldRead(bool cancellable)
    {
        HeldFifo fifo = Fifo;
        var buffer = new byte[64];
        buffer.AsSpan().Fill(RequestModel.Untouched);
        FileOperation operation = Start(FileOperationKind.HeldRead, 0, buffer.Length, [], buffer,
            cancellable ? TokenPlan.CancelLater : TokenPlan.None,
            (held, token) => held.Transfer = fifo.File.ReadAsync(buffer, 0, token))!;
        if (operation.Transfer.IsCompleted)
        {
            throw new ModelViolation($"{operation} completed at once, though nothing was ever written into the FIFO.");
        }
    }

    private FileOperation? Start(FileOperationKind kind, long offset, int length, byte[] data, byte[] buffer, TokenPlan plan,
        Action<FileOperation, CancellationToken> call)
    {
        bool touchesTheFile = kind is FileOperationKind.Read or FileOperationKind.Write;
        Region region = touchesTheFile ? _model.RegionOf(offset, length, kind == FileOperationKind.Write) : default;
        if (touchesTheFile && _inFlight.Any(o => o.TouchesTheFile && (kind == FileOperationKind.Write || o.Kind == FileOperationKind.Write) && o.Region.Overlaps(region)))
        {
            _coverage.Count("start: left out, its region is in flight");
            _trace.Add("    → not started: an operation in flight touches the same bytes");
            return null;
        }
        var operation = new FileOperation
        {
            Number = _started++,
            Kind = kind,
            Offset = offset,
            Length = length,
            Data = data,
            Buffer = buffer,
            Region = region,
            Token = plan == TokenPlan.None ? null : new CancellationTokenSource(),
            CanceledBeforeTheCall = plan == TokenPlan.CancelledBeforeTheCall,
        };
        if (plan == TokenPlan.CancelledBeforeTheCall)
        {
            operation.Token!.Cancel();
            operation.CancelRequested = true;
        }
        try
        {
            call(operation, operation.Token?.Token ?? default);
        }
        catch (OperationCanceledException e) when (plan == TokenPlan.CancelledBeforeTheCall)
        {
            operation.ThrownAtTheCall = e;
        }
        _inFlight.Add(operation);
        _trace.Add($"    → started {operation}");
        return operation;
    }

    private async Task AwaitPickedAsync(int pick)
    {
        List<FileOperation> awaitable = _inFlight.Where(o => o.CanEndOnItsOwn).ToList();
        if (awaitable.Count == 0)
        {
            _trace.Add("    → nothing that can end is in flight");
            return;
        }
        await AwaitAsync(awaitable[pick % awaitable.Count]);
    }

    private async Task CancelPickedAsync(int pick)
    {
        List<FileOperation> cancellable = _inFlight.Where(o => o.Token is not null && !o.CancelRequested).ToList();
        if (cancellable.Count == 0)
        {
            _trace.Add("    → no token to cancel");
            return;
        }
        await CancelAsync(cancellable[pick % cancellable.Count]);
    }

    private async Task CancelAsync(FileOperation operation)
    {
        operation.CancelRequested = true;
        await operation.Token!.CancelAsync();
        _trace.Add($"    → cancelled the token of {operation}");
    }

    private async Task AwaitAsync(FileOperation operation)
    {
        (int bytes, Exception? error) = await operation.OutcomeAsync();
        _inFlight.Remove(operation);
        _trace.Add($"    → {operation}: {(error is null ? $"{bytes} bytes" : error.GetType().Name)}");
        CheckOutcome(operation, bytes, error);
        operation.Dispose();
    }
}
