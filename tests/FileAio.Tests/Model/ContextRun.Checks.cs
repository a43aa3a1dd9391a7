namespace FileAio.Tests.Model;

// What the model allows, checked against what the real context did.
internal sealed partial class ContextRun
{
    /// <summary>After every step: the context's outstanding count, and each request's state, status, byte count and
    /// user state, are exactly the model's (SPEC §1: Prepared reads "not submitted", Submitted "in progress").</summary>
    private void CheckState()
    {
        if (!_contextDisposed && _context.Outstanding != _model.Outstanding)
        {
            throw new ModelViolation($"The context says {_context.Outstanding} requests are outstanding; the model says {_model.Outstanding} " +
                $"([{string.Join(", ", _model.InFlight)}]).");
        }
        foreach (RequestModel request in _model.Requests)
        {
            AioRequest real = request.Request;
            AioStatus status = request.State switch
            {
                AioRequestState.Prepared => AioStatus.NotSubmitted,
                AioRequestState.Submitted => AioStatus.InProgress,
                _ => request.Status,
            };
            long bytes = request.State == AioRequestState.Completed ? request.BytesTransferred : 0;
            if (real.State != request.State || real.Status != status || real.BytesTransferred != bytes)
            {
                throw new ModelViolation($"{request} is {real.State}, {real.Status}, {real.BytesTransferred} bytes; the model says " +
                    $"{request.State}, {status}, {bytes} bytes.");
            }
            if (!ReferenceEquals(real.UserState, request.UserState))
            {
                throw new ModelViolation($"{request} carries another user state than the one its last successful Prepare gave.");
            }
        }
    }

    /// <summary>SPEC §3: a request that is not Submitted answers NotSubmitted. A Submitted one may be Canceled,
    /// AlreadyCompleted or InProgress, except that a held operation has not finished (it waits for data no one
    /// writes, or room no one makes), an InProgress answer promises a report by Wait (so no later Canceled), and a
    /// request known to have finished in the kernel can only be AlreadyCompleted.</summary>
    private static void CheckCancelAnswer(RequestModel request, AioCancelResult answer)
    {
        AioCancelResult[] allowed = request.State != AioRequestState.Submitted ? [AioCancelResult.NotSubmitted]
            : request.KnownFinished || request.CancelSeen == CancelAnswerSeen.AlreadyCompleted ? [AioCancelResult.AlreadyCompleted]
            : request.CancelSeen == CancelAnswerSeen.InProgress ? [AioCancelResult.InProgress, AioCancelResult.AlreadyCompleted]
            : !request.CanFinish ? [AioCancelResult.Canceled, AioCancelResult.InProgress]
            : [AioCancelResult.Canceled, AioCancelResult.AlreadyCompleted, AioCancelResult.InProgress];
        if (!allowed.Contains(answer))
        {
            string why = request.State != AioRequestState.Submitted ? $"it is {request.State}"
                : request.KnownFinished ? "a flush submitted after it has completed, so it finished in the kernel"
                : request.CancelSeen != CancelAnswerSeen.None ? $"an earlier Cancel answered {request.CancelSeen}"
                : !request.CanFinish ? "it cannot have finished (it waits for a FIFO, or for a held write)"
                : "it is Submitted";
            throw new ModelViolation($"Cancel of {request} answered {answer}; allowed: {string.Join(" or ", allowed)}, since {why}.");
        }
    }

    /// <summary>SPEC §3: Canceled means Completed with status Canceled at once, and a buffer the kernel never
    /// touches again: a cancelled read's buffer still holds what the test put there.</summary>
    private void CheckCanceled(RequestModel request)
    {
        AioRequest real = request.Request;
        if (real.State != AioRequestState.Completed || real.Status != AioStatus.Canceled || real.BytesTransferred != 0)
        {
            throw new ModelViolation($"After Cancel answered Canceled, {request} is {real.State}, {real.Status}, {real.BytesTransferred} bytes.");
        }
        CheckReadBufferUntouched(request, 0);
    }

    private void CheckReadBufferUntouched(RequestModel request, int from)
    {
        ReadOnlySpan<byte> buffer = request.Operation switch
        {
            ModelOperation.Read => request.ReadBuffer.AsSpan(0, request.Length),
            ModelOperation.HeldRead => Hold.ReadBuffer(request.Index).Span,
            _ => [],
        };
        int touched = buffer[from..].IndexOfAnyExcept(RequestModel.Untouched);
        if (touched >= 0)
        {
            throw new ModelViolation($"The buffer of {request} ({request.Request.Status}, {request.Request.BytesTransferred} bytes) was " +
                $"written at {from + touched}, where the kernel had nothing to put.");
        }
    }

    /// <summary>
    /// A request reported by Wait, or finished by Dispose: its result must be one the model allows, exactly. Reads
    /// return the model's bytes (short only at the end of the file), writes are whole and only then applied to the
    /// model, held operations end only cancelled, and Canceled comes only where a cancel was in progress (or Dispose
    /// cancelled). A flush's success checks that the writes submitted before it have finished (SPEC §3).
    /// </summary>
    private void CheckFinished(RequestModel request, bool byDispose)
    {
        AioRequest real = request.Request;
        AioStatus status = real.Status;
        long bytes = real.BytesTransferred;
        if (status is not (AioStatus.Success or AioStatus.Canceled) || real.ErrorCode != 0)
        {
            throw new ModelViolation($"{request} finished {status} with errno {real.ErrorCode} ({real.ErrorMessage}).");
        }
        if (!ReferenceEquals(real.UserState, request.UserState))
        {
            throw new ModelViolation($"{request} was reported with another user state than it was prepared with.");
        }
        if (status == AioStatus.Canceled)
        {
            bool mayBeCanceled = byDispose
                ? !request.KnownFinished && request.CancelSeen != CancelAnswerSeen.AlreadyCompleted
                : request.CancelSeen == CancelAnswerSeen.InProgress && !request.KnownFinished;
            if (!mayBeCanceled || bytes != 0)
            {
                throw new ModelViolation($"{request} finished Canceled ({bytes} bytes) although " +
                    (request.CancelSeen == CancelAnswerSeen.None ? "no cancel reached it" : $"Cancel answered {request.CancelSeen}") +
                    (request.KnownFinished ? " and it had finished in the kernel" : "") + ".");
            }
            CheckReadBufferUntouched(request, 0);
            _coverage.Count(byDispose ? "finished Canceled by Dispose" : "finished Canceled after InProgress");
            _model.Finished(request, AioStatus.Canceled, 0);
            return;
        }
        switch (request.Operation)
        {
            case ModelOperation.HeldRead or ModelOperation.HeldWrite:
                throw new ModelViolation($"{request} finished {status} with {bytes} bytes, but nothing could finish it.");
            case ModelOperation.Read:
                int expected = _model.File.ReadCount(request.Offset, request.Length);
                if (bytes != expected)
                {
                    throw new ModelViolation($"{request} read {bytes} bytes; the file has {_model.File.Length}, so {expected}.");
                }
                int differs = request.ReadBuffer.AsSpan(0, expected).CommonPrefixLength(_model.File.Slice(request.Offset, expected));
                if (differs < expected)
                {
                    throw new ModelViolation($"{request} read {request.ReadBuffer[differs]} at file offset {request.Offset + differs}; " +
                        $"the model says {_model.File.Slice(request.Offset + differs, 1)[0]}.");
                }
                CheckReadBufferUntouched(request, expected);
                _coverage.Count(expected < request.Length ? "read: verified, short at the end of the file" : "read: verified");
                break;
            case ModelOperation.Write:
                if (bytes != request.Length)
                {
                    throw new ModelViolation($"{request} wrote {bytes} bytes of {request.Length} to a local file.");
                }
                _coverage.Count("write: applied");
                break;
            case ModelOperation.Flush:
                if (bytes != 0)
                {
                    throw new ModelViolation($"{request} finished with {bytes} bytes.");
                }
                CheckFlushBarrier(request);
                _coverage.Count("flush: completed");
                break;
        }
        _model.Finished(request, status, bytes);
    }

    /// <summary>
    /// SPEC §3: a flush completes only after every write submitted to the context before it. Those still unreported
    /// must have finished in the kernel: a held write cannot have (no one made room), and a file write's bytes must
    /// be in the file now (no other operation in flight touches its region). A Cancel of it can then only answer
    /// AlreadyCompleted.
    /// </summary>
    private void CheckFlushBarrier(RequestModel flush)
    {
        foreach (RequestModel write in flush.WritesBeforeInFlight)
        {
            if (write.IsHeld)
            {
                if (write.CancelSeen == CancelAnswerSeen.None)
                {
                    throw new ModelViolation($"{flush} completed while {write}, submitted before it, still waits for room in its FIFO.");
                }
                continue;
            }
            byte[] inFile = ExpectedFile.ReadBack(_file, write.Offset, write.Length);
            if (!inFile.AsSpan().SequenceEqual(write.WriteData))
            {
                throw new ModelViolation($"{flush} completed, but the bytes of {write}, submitted before it, are not in the file yet.");
            }
            write.KnownFinished = true;
            _coverage.Count("flush: completed before an earlier write was reaped, whose bytes were there");
        }
    }

    /// <summary>SPEC §3: Completed means at least the minimum; TimedOut fewer; NoRequests only with nothing outstanding
    /// (and WaitWithoutPendingRequests off); Interrupted only for a pending Wakeup, which no other reason may skip.</summary>
    private void CheckWaitReason(AioWaitResult result, int wanted, int outstandingBefore, TimeSpan timeout, bool mustNotTimeOut)
    {
        bool noneOutstanding = outstandingBefore == 0 && !_sequence.WaitWithoutPendingRequests;
        string? violation = result.Reason switch
        {
            AioWaitReason.Completed when result.Count < wanted => $"Wait returned Completed with {result.Count} of the {wanted} asked for.",
            AioWaitReason.TimedOut when result.Count >= wanted => $"Wait returned TimedOut with {result.Count}, though {wanted} were asked for.",
            AioWaitReason.TimedOut when mustNotTimeOut =>
                $"Wait timed out after {timeout.TotalSeconds:0} s with {result.Count} of {wanted}, though " +
                $"{(_model.WakeupsAtLeast > 0 ? "a Wakeup was pending" : $"{_model.CanFinishCount + result.Count} outstanding requests can finish")}.",
            AioWaitReason.NoRequests when !noneOutstanding || result.Count != 0 =>
                $"Wait returned NoRequests with {result.Count}, with {outstandingBefore} outstanding before it.",
            AioWaitReason.Completed or AioWaitReason.TimedOut when noneOutstanding =>
                $"Wait returned {result.Reason} with nothing outstanding (SPEC §3: NoRequests at once).",
            _ => null,
        };
        violation ??= _model.WaitReturned(result.Reason);
        if (violation is not null)
        {
            throw new ModelViolation(violation);
        }
    }
}
