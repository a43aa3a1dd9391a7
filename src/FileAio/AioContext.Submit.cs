using FileAio.Engines;

namespace FileAio;

/// <summary>Submit's two steps: check the whole batch, then claim, pin and hand over what fits.</summary>
public sealed partial class AioContext
{
    /// <summary>Throws, before anything changes, if any element cannot be submitted.</summary>
    private static void ValidateBatch(ReadOnlySpan<AioRequest> requests)
    {
        for (int i = 0; i < requests.Length; i++)
        {
            AioRequest request = requests[i];
            if (request is null)
            {
                throw new ArgumentNullException(nameof(requests), $"requests[{i}] is null; nothing was submitted.");
            }
            if (request.IsDisposed)
            {
                throw new ObjectDisposedException(nameof(AioRequest), $"requests[{i}] was disposed; nothing was submitted.");
            }
            if (request.State != AioRequestState.Prepared)
            {
                ThrowHelper.ThrowInvalidOperation(
                    $"requests[{i}] is {request.State}; only Prepared requests can be submitted. Nothing was submitted.");
            }
        }
    }

    private int SubmitLocked(ReadOnlySpan<AioRequest> requests)
    {
        // 1. Claim every element (Prepared → Submitted) and pin what fits. Claiming all of them catches a request that
        //    appears twice or is being submitted by another thread; any failure undoes everything.
        int fits = Math.Min(requests.Length, Capacity - Volatile.Read(ref _outstanding));
        int claimed = 0, pinned = 0;
        try
        {
            for (; claimed < requests.Length; claimed++)
            {
                if (!requests[claimed].TryClaim())
                {
                    ThrowHelper.ThrowInvalidOperation(
                        $"requests[{claimed}] appears twice in the batch or is being submitted by another thread. Nothing was submitted.");
                }
            }
            for (; pinned < fits; pinned++)
            {
                requests[pinned].Operation.Pin();
            }
        }
        catch
        {
            for (int i = 0; i < claimed; i++)
            {
                if (i < pinned)
                {
                    requests[i].Operation.Unpin();
                }
                requests[i].Unclaim();
            }
            throw;
        }

        // 2. Count the requests before the engine sees them: a worker may finish one, and Wait reap it, at once.
        if (_submitScratch.Length < fits)
        {
            _submitScratch = new IoOperation[Math.Max(fits, 16)];
        }
        for (int i = 0; i < fits; i++)
        {
            requests[i].Owner = this;
            requests[i].Operation.Scope = _scope;
            _submitScratch[i] = requests[i].Operation;
        }
        Interlocked.Add(ref _outstanding, fits);

        int refusedErrno = 0;
        int accepted = fits == 0 ? 0 : _engine.Start(_submitScratch.AsSpan(0, fits), out refusedErrno);
        _submitScratch.AsSpan(0, fits).Clear();

        // 3. What the engine did not take goes back: the refused one is Completed with its error, the rest Prepared.
        for (int i = accepted; i < requests.Length; i++)
        {
            AioRequest request = requests[i];
            if (i < fits)
            {
                Interlocked.Decrement(ref _outstanding);
                if (i == accepted && refusedErrno != 0)
                {
                    request.Complete(OperationResult.FromErrno(refusedErrno));
                    continue;
                }
                request.Operation.Unpin();
            }
            request.Unclaim();
        }
        AssertInvariants();
        return accepted;
    }
}
