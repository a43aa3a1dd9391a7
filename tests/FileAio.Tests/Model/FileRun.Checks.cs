namespace FileAio.Tests.Model;

// What the model allows for an awaited operation (SPEC §4).
internal sealed partial class FileRun
{
    /// <summary>
    /// An awaited outcome must be one the model allows. Without a cancelled token (and before Dispose) a read returns
    /// exactly the model's bytes and a write writes all of its bytes. A cancelled call may still have finished: a read
    /// then returns a prefix of the model's bytes (a partial page-cache hit), a write its bytes; or it ends with
    /// <see cref="OperationCanceledException"/>, and then a write is either wholly in the file or not at all, which the
    /// test reads back to decide. A token cancelled before the call does nothing. A read of the empty FIFO ends only
    /// cancelled, its buffer untouched. Anything else — another exception, a cancellation nobody asked for — is wrong.
    /// </summary>
    private void CheckOutcome(FileOperation operation, int bytes, Exception? error)
    {
        bool mayBeCanceled = operation.CancelRequested || _disposing;
        if (error is OperationCanceledException)
        {
            if (!mayBeCanceled)
            {
                throw new ModelViolation($"{operation} ended with OperationCanceledException, but its token was not cancelled and the file not disposed.");
            }
            _coverage.Count($"{operation.Kind}: canceled{(_disposing && !operation.CancelRequested ? " by Dispose" : "")}");
            switch (operation.Kind)
            {
                case FileOperationKind.HeldRead:
                    CheckUntouched(operation, 0);
                    break;
                case FileOperationKind.Write:
                    ResolveCanceledWrite(operation);
                    break;
            }
            return;
        }
        if (error is not null)
        {
            throw new ModelViolation($"{operation} failed with {error.GetType().Name}: {error.Message}", error);
        }
        if (operation.CanceledBeforeTheCall || operation.Kind == FileOperationKind.HeldRead)
        {
            throw new ModelViolation($"{operation} completed with {bytes} bytes, though " +
                (operation.Kind == FileOperationKind.HeldRead ? "nothing was ever written into its FIFO." : "its token was cancelled before the call."));
        }
        switch (operation.Kind)
        {
            case FileOperationKind.Read:
                int expected = _model.ReadCount(operation.Offset, operation.Length);
                if (mayBeCanceled ? bytes > expected || bytes < 0 : bytes != expected)
                {
                    throw new ModelViolation($"{operation} returned {bytes} bytes; the file has {_model.Length}, so {expected}" +
                        (mayBeCanceled ? " or fewer." : "."));
                }
                int differs = operation.Buffer.AsSpan(0, bytes).CommonPrefixLength(_model.Slice(operation.Offset, bytes));
                if (differs < bytes)
                {
                    throw new ModelViolation($"{operation} read {operation.Buffer[differs]} at file offset {operation.Offset + differs}; " +
                        $"the model says {_model.Slice(operation.Offset + differs, 1)[0]}.");
                }
                if (!mayBeCanceled)
                {
                    CheckUntouched(operation, bytes);
                }
                _coverage.Count(bytes < operation.Length ? "Read: verified, short" : "Read: verified");
                break;
            case FileOperationKind.Write:
                if (mayBeCanceled ? bytes <= 0 || bytes > operation.Length : bytes != operation.Length)
                {
                    throw new ModelViolation($"{operation} wrote {bytes} of its {operation.Length} bytes to a local file.");
                }
                _model.Apply(operation.Offset, operation.Data.AsSpan(0, bytes));
                _coverage.Count(mayBeCanceled ? "Write: applied though cancelled" : "Write: applied");
                break;
            case FileOperationKind.Flush:
                _coverage.Count("Flush: completed");
                break;
        }
    }

    /// <summary>A write that ended cancelled either happened or did not — never in part (no other operation in flight
    /// touches its bytes, so what the file holds there now decides); the model follows what happened.</summary>
    private void ResolveCanceledWrite(FileOperation write)
    {
        long length = RandomAccess.GetLength(_verifier);
        byte[] now = ExpectedFile.ReadBack(_verifier, write.Offset, write.Length);
        byte[] before = _model.Slice(write.Offset, _model.ReadCount(write.Offset, write.Length)).ToArray();
        if (now.AsSpan().SequenceEqual(write.Data))
        {
            if (write.CanceledBeforeTheCall && !now.AsSpan().SequenceEqual(before))
            {
                throw new ModelViolation($"{write}: its token was cancelled before the call, yet its bytes are in the file.");
            }
            _model.Apply(write.Offset, write.Data);
            _coverage.Count("Write: canceled, yet applied");
        }
        // Only a write past the end moves the end; then no other operation in flight touches the file from there on.
        else if (now.AsSpan().SequenceEqual(before) && (write.Region.End != long.MaxValue || length == _model.Length))
        {
            _coverage.Count("Write: canceled, not applied");
        }
        else
        {
            int differs = now.AsSpan().CommonPrefixLength(write.Data);
            throw new ModelViolation($"{write} ended cancelled with only part of it in the file: its first {differs} bytes are there " +
                $"(the file is {length} bytes; the model says {_model.Length} without the write).");
        }
    }

    private static void CheckUntouched(FileOperation read, int from)
    {
        int touched = read.Buffer.AsSpan(from).IndexOfAnyExcept(RequestModel.Untouched);
        if (touched >= 0)
        {
            throw new ModelViolation($"The buffer of {read} was written at {from + touched}, where the kernel had nothing to put.");
        }
    }
}
