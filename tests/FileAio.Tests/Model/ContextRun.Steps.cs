namespace FileAio.Tests.Model;

// The steps: each calls the real context, tells the model what happened, and checks what the model allows.
internal sealed partial class ContextRun
{
    private void PrepareRead(RequestModel request, long offset, int length) => Prepare(request, ModelOperation.Read, offset, length, [], userState =>
    {
        if (request.State != AioRequestState.Submitted)
        {
            request.ReadBuffer.AsSpan().Fill(RequestModel.Untouched); // never while the kernel may be writing it
        }
        request.Request.PrepareRead(_file, offset, request.ReadBuffer.AsMemory(0, length), userState);
    });

    private void PrepareWrite(RequestModel request, long offset, byte[] data) => Prepare(request, ModelOperation.Write, offset, data.Length, data,
        userState => request.Request.PrepareWrite(_file, offset, data, userState));

    private void PrepareFlush(RequestModel request, bool dataOnly) => Prepare(request, ModelOperation.Flush, 0, 0, [],
        userState => request.Request.PrepareFlush(_file, dataOnly, userState));

    private void PrepareHeld(RequestModel request, bool write) => Prepare(request, write ? ModelOperation.HeldWrite : ModelOperation.HeldRead, 0, 0, [],
        userState =>
        {
            if (write)
            {
                Hold.PrepareWrite(request.Request, request.Index, userState);
            }
            else
            {
                Hold.PrepareRead(request.Request, request.Index, userState);
            }
        });

    /// <summary>Prepares from Completed or Prepared; a Submitted request must refuse (SPEC §1) and keep everything,
    /// its user state included.</summary>
    private void Prepare(RequestModel request, ModelOperation operation, long offset, int length, byte[] data, Action<object> prepare)
    {
        var userState = new object();
        if (request.State == AioRequestState.Submitted)
        {
            try
            {
                prepare(userState);
            }
            catch (InvalidOperationException)
            {
                _coverage.Count("prepare: refused while Submitted");
                _trace.Add("    → refused (Submitted)");
                return;
            }
            throw new ModelViolation($"Preparing {request} while it is Submitted was accepted (SPEC §1: InvalidOperationException).");
        }
        prepare(userState);
        _coverage.Count(request.Operation == ModelOperation.None ? "prepare: new request" : "prepare: reused request");
        request.State = AioRequestState.Prepared;
        request.Operation = operation;
        request.Offset = offset;
        request.Length = length;
        request.WriteData = data;
        request.UserState = userState;
    }

    /// <summary>Submits up to <paramref name="count"/> Prepared requests whose file regions no operation in flight
    /// touches; a full context accepts what fits (SPEC §2) and the rest stay Prepared.</summary>
    private void Submit(int first, int count)
    {
        var batch = new List<RequestModel>();
        foreach (RequestModel candidate in Rotated(first).Where(r => r.State == AioRequestState.Prepared))
        {
            if (batch.Count == count)
            {
                break;
            }
            if (_model.Conflicts(candidate, batch))
            {
                _coverage.Count("submit: left out, its region is in flight");
                continue;
            }
            batch.Add(candidate);
        }
        if (batch.Count == 0)
        {
            _trace.Add("    → nothing to submit");
            return;
        }
        int fits = Math.Min(batch.Count, _model.Capacity - _model.Outstanding);
        int accepted = _context.Submit(batch.Select(r => r.Request).ToArray());
        _trace.Add($"    → accepted {accepted} of [{string.Join(", ", batch)}]");
        if (accepted < 0 || accepted > fits)
        {
            throw new ModelViolation($"Submit accepted {accepted} of {batch.Count} with room for {fits} (capacity {_model.Capacity}).");
        }
        _coverage.Count(accepted < batch.Count ? "submit: context full, part accepted" : "submit: all accepted");
        foreach (RequestModel request in batch.Take(accepted))
        {
            _model.Submitted(request);
        }
    }

    /// <summary>A batch with a request that is not Prepared, or with one request twice: refused whole, before
    /// anything is touched (SPEC §2: validate first, then submit).</summary>
    private void SubmitInvalid(int count, int intruderPick, bool duplicate)
    {
        List<RequestModel> prepared = _model.Requests.Where(r => r.State == AioRequestState.Prepared).Take(count).ToList();
        List<RequestModel> notPrepared = _model.Requests.Where(r => r.State != AioRequestState.Prepared).ToList();
        if (duplicate ? prepared.Count == 0 : notPrepared.Count == 0)
        {
            _trace.Add("    → no such batch to make");
            return;
        }
        RequestModel odd = duplicate ? prepared[intruderPick % prepared.Count] : notPrepared[intruderPick % notPrepared.Count];
        List<RequestModel> batch = [.. prepared];
        batch.Insert(intruderPick % (batch.Count + 1), odd);
        try
        {
            int accepted = _context.Submit(batch.Select(r => r.Request).ToArray());
            throw new ModelViolation($"Submit accepted {accepted} of [{string.Join(", ", batch)}], a batch with {odd} " +
                $"{(duplicate ? "twice" : $"in state {odd.State}")} (SPEC §2: throw before touching anything).");
        }
        catch (InvalidOperationException)
        {
            _coverage.Count(duplicate ? "submit: refused whole, a duplicate" : "submit: refused whole, not Prepared");
            _trace.Add($"    → refused [{string.Join(", ", batch)}]");
        }
    }

    private void Wait(int min, WaitTimeout timeoutKind, int extraRoom)
    {
        int wanted = Math.Max(min, 1);
        bool mustNotTimeOut = false;
        TimeSpan timeout = timeoutKind switch
        {
            WaitTimeout.Poll => TimeSpan.Zero,
            WaitTimeout.OneMillisecond => TimeSpan.FromMilliseconds(1),
            WaitTimeout.FiveMilliseconds => TimeSpan.FromMilliseconds(5),
            _ => TimeSpan.FromMilliseconds(1),
        };
        if (timeoutKind == WaitTimeout.UntilDone && (_model.WakeupsAtLeast > 0 || _model.CanFinishCount >= wanted))
        {
            timeout = ModelBudget.MustEndWithin;
            mustNotTimeOut = true;
        }
        ReportWait(min, timeout, new AioRequest[wanted + extraRoom], mustNotTimeOut);
    }

    private void Wakeup()
    {
        _context.Wakeup();
        _model.WakeupCalled();
    }

    /// <summary>A Wait for more than can finish, ended by a Wakeup from another thread (SPEC §3: any thread; the
    /// current Wait returns Interrupted). Made only when the Wait can end no other way: no wakeup pending, and
    /// something outstanding or the context told to wait without pending requests.</summary>
    private void WaitWokenFromAnotherThread(int extraRoom)
    {
        if (_model.WakeupsAtMost > 0 || (_model.Outstanding == 0 && !_sequence.WaitWithoutPendingRequests))
        {
            _trace.Add("    → the Wait could end on its own: polls instead");
            ReportWait(0, TimeSpan.Zero, new AioRequest[1 + extraRoom], mustNotTimeOut: false);
            return;
        }
        int wanted = _model.CanFinishCount + 1;
        int waking = 0;
        var waker = new Thread(() =>
        {
            Thread.Sleep(2);
            Volatile.Write(ref waking, 1);
            _context.Wakeup();
        }) { IsBackground = true, Name = "model waker" };
        waker.Start();
        var completed = new AioRequest[wanted + extraRoom];
        AioWaitResult result;
        try
        {
            result = _context.Wait(wanted, ModelBudget.MustEndWithin, completed);
        }
        finally
        {
            waker.Join();
        }
        bool wakeupStarted = Volatile.Read(ref waking) == 1;
        int outstandingBefore = CheckReported(result, completed, wanted, ModelBudget.MustEndWithin);
        _model.WakeupCalled();
        if (result.Reason == AioWaitReason.Interrupted && !wakeupStarted)
        {
            throw new ModelViolation("A Wait returned Interrupted before any thread called Wakeup.");
        }
        if (result.Reason != AioWaitReason.Interrupted)
        {
            throw new ModelViolation($"A Wait blocked for {wanted} completions, of which only {wanted - 1} can happen, returned " +
                $"{result.Reason} with {result.Count}; the Wakeup from another thread should have ended it as Interrupted.");
        }
        _coverage.Count("wait: woken from another thread");
        CheckWaitReason(result, wanted, outstandingBefore, ModelBudget.MustEndWithin, mustNotTimeOut: false);
    }

    /// <summary>Cancels a request and checks the answer against what the model allows for its state (SPEC §3).</summary>
    private void Cancel(RequestModel request)
    {
        AioCancelResult answer = request.Request.Cancel();
        _trace.Add($"    → {request}: {answer}");
        _coverage.Count($"cancel: {answer}{(request.IsHeld ? ", held" : "")}");
        CheckCancelAnswer(request, answer);
        switch (answer)
        {
            case AioCancelResult.Canceled:
                CheckCanceled(request);
                _model.Finished(request, AioStatus.Canceled, 0);
                if (request.Request.Cancel() != AioCancelResult.NotSubmitted)
                {
                    throw new ModelViolation($"A second Cancel of {request} after Canceled did not answer NotSubmitted.");
                }
                break;
            case AioCancelResult.InProgress when request.CancelSeen == CancelAnswerSeen.None:
                request.CancelSeen = CancelAnswerSeen.InProgress;
                break;
            case AioCancelResult.AlreadyCompleted:
                request.CancelSeen = CancelAnswerSeen.AlreadyCompleted;
                break;
        }
    }

    /// <summary>Waits, then checks and records every reported request and the reason.</summary>
    private AioWaitReason ReportWait(int min, TimeSpan timeout, AioRequest[] completed, bool mustNotTimeOut)
    {
        int wanted = Math.Max(min, 1);
        AioWaitResult result = _context.Wait(min, timeout, completed);
        int outstandingBefore = CheckReported(result, completed, wanted, timeout);
        CheckWaitReason(result, wanted, outstandingBefore, timeout, mustNotTimeOut);
        return result.Reason;
    }

    /// <summary>Traces a Wait's result and checks every request it reported (each outstanding, each once); returns how
    /// many were outstanding before it.</summary>
    private int CheckReported(AioWaitResult result, AioRequest[] completed, int wanted, TimeSpan timeout)
    {
        int outstandingBefore = _model.Outstanding;
        _trace.Add($"    → Wait(min {wanted}, {timeout.TotalMilliseconds} ms, room {completed.Length}): {result.Reason} with " +
            $"[{string.Join(", ", completed.Take(Math.Clamp(result.Count, 0, completed.Length)).Select(r => _byRequest.GetValueOrDefault(r!)?.ToString() ?? "?"))}]");
        _coverage.Count($"wait: {result.Reason}{(result.Count > 0 ? " with completions" : "")}");
        if (result.Count < 0 || result.Count > completed.Length)
        {
            throw new ModelViolation($"Wait returned a count of {result.Count} for a span of {completed.Length}.");
        }
        var seen = new HashSet<RequestModel>();
        for (int i = 0; i < result.Count; i++)
        {
            if (completed[i] is null || !_byRequest.TryGetValue(completed[i], out RequestModel? request))
            {
                throw new ModelViolation($"Wait reported entry {i} as {(completed[i] is null ? "null" : "a request of no one")}.");
            }
            if (!seen.Add(request))
            {
                throw new ModelViolation($"Wait reported {request} twice in one Wait (SPEC §3: exactly once).");
            }
            if (request.State != AioRequestState.Submitted)
            {
                throw new ModelViolation($"Wait reported {request}, which the model has as {request.State} with status {request.Status} " +
                    "(SPEC §3: each completed request is reported exactly once; a Canceled one never).");
            }
            CheckFinished(request, byDispose: false);
        }
        return outstandingBefore;
    }

    /// <summary>The pool from <paramref name="first"/> on, wrapping around.</summary>
    private IEnumerable<RequestModel> Rotated(int first) =>
        _model.Requests.Skip(first % _model.Requests.Length).Concat(_model.Requests.Take(first % _model.Requests.Length));
}
