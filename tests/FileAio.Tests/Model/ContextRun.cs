using System.Diagnostics;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Model;

/// <summary>
/// Runs one generated <see cref="ContextSequence"/> against a real context and file and against the
/// <see cref="ContextModel"/>, step by step, checking after each step (<see cref="CheckState"/>) and each result;
/// then ends it (drained, or disposed with requests in flight) and compares the whole file with the model. Every call
/// is made from the thread that runs the sequence, which creates the context: owned contexts accept nothing else.
/// A violation is rethrown with the step it happened at and the trace of what the real system answered so far.
/// </summary>
internal sealed partial class ContextRun : IDisposable
{
    private readonly ContextSequence _sequence;
    private readonly ModelCoverage _coverage;
    private readonly ContextModel _model;
    private readonly Dictionary<AioRequest, RequestModel> _byRequest = new(ReferenceEqualityComparer.Instance);
    private readonly List<string> _trace = [];
    private readonly string _directory;
    private readonly SafeFileHandle _file;
    private readonly AioContext _context;
    private FifoHold? _hold;
    private bool _contextDisposed;

    private ContextRun(ContextSequence sequence, ContextVariant variant, string directory, ModelCoverage coverage)
    {
        _sequence = sequence;
        _coverage = coverage;
        _directory = directory;
        _model = new ContextModel(sequence, fileSeed: sequence.Steps.Length);
        foreach (RequestModel request in _model.Requests)
        {
            _byRequest.Add(request.Request, request);
        }
        System.IO.Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "data.bin");
        File.WriteAllBytes(path, _model.File.InitialContent);
        _file = AioFile.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        _context = variant.Create(sequence.Capacity, sequence.WaitWithoutPendingRequests);
    }

    /// <summary>Runs <paramref name="sequence"/> in a directory of its own, and cleans up whatever happens.</summary>
    public static void Check(ContextSequence sequence, ContextVariant variant, string directory, ModelCoverage coverage)
    {
        using var run = new ContextRun(sequence, variant, directory, coverage);
        run.Execute();
    }

    /// <summary>Operations that stay in the kernel until cancelled; made on first use, one buffer per request.</summary>
    private FifoHold Hold => _hold ??= new FifoHold(_directory, _model.Requests.Length);

    private void Execute()
    {
        string where = "set-up";
        try
        {
            CheckState();
            for (int i = 0; i < _sequence.Steps.Length; i++)
            {
                ContextStep step = _sequence.Steps[i];
                where = $"step {i} ({step})";
                _trace.Add($"{i,2}: {step}");
                Do(step);
                CheckState();
            }
            where = _sequence.EndByDispose ? "the end (Dispose with requests in flight)" : "the end (drain)";
            _trace.Add($"end: {(_sequence.EndByDispose ? "Dispose" : "drain")}");
            if (_sequence.EndByDispose)
            {
                EndByDispose();
            }
            else
            {
                EndByDrain();
            }
            _model.File.Verify(_file, "After the end");
            foreach (RequestModel request in _model.Requests)
            {
                request.Request.Dispose(); // none is Submitted now: always allowed (SPEC §1)
            }
        }
        catch (Exception e)
        {
            throw new ModelViolation($"{(e is ModelViolation ? "" : e.GetType().Name + ": ")}{e.Message}{Environment.NewLine}" +
                $"  at {where}, on {_context.Engine}; trace of what the context answered:{Environment.NewLine}    " +
                string.Join(Environment.NewLine + "    ", _trace), e is ModelViolation ? null! : e);
        }
    }

    private void Do(ContextStep step)
    {
        switch (step)
        {
            case PrepareReadStep s: PrepareRead(_model.Requests[s.Request], s.Offset, s.Length); break;
            case PrepareWriteStep s: PrepareWrite(_model.Requests[s.Request], s.Offset, ExpectedFile.WriteData(s.Fill, s.Length)); break;
            case PrepareFlushStep s: PrepareFlush(_model.Requests[s.Request], s.DataOnly); break;
            case PrepareHeldStep s: PrepareHeld(_model.Requests[s.Request], s.Write); break;
            case SubmitStep s: Submit(s.First, s.Count); break;
            case SubmitInvalidStep s: SubmitInvalid(s.Count, s.Intruder, s.Duplicate); break;
            case WaitStep s: Wait(s.Min, s.Timeout, s.ExtraRoom); break;
            case WakeupStep: Wakeup(); break;
            case WaitWokenFromAnotherThreadStep s: WaitWokenFromAnotherThread(s.ExtraRoom); break;
            case CancelStep s: Cancel(_model.Requests[s.Request]); break;
            default: throw new InvalidOperationException($"Unknown step {step}.");
        }
    }

    /// <summary>Cancels what only a cancel ends, then waits until every request was reported, and once more: nothing is
    /// left, no request is reported twice, and the context says so.</summary>
    private void EndByDrain()
    {
        foreach (RequestModel request in _model.InFlight.Where(r => !r.CanFinish || r.IsHeld).ToList())
        {
            Cancel(request);
        }
        // The budget is measured on the monotonic clock, as every timeout of the library is: the wall clock can be
        // stepped meanwhile (NTP, a virtual machine's clock set right after a pause), and a step made a drain that had
        // waited a millisecond report its write as hung.
        var waited = Stopwatch.StartNew();
        int waits = 0;
        var completed = new AioRequest[16];
        while (_model.Outstanding > 0)
        {
            TimeSpan left = ModelBudget.MustEndWithin - waited.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new ModelViolation($"Draining: {string.Join(", ", _model.InFlight)} never finished within " +
                    $"{ModelBudget.MustEndWithin.TotalSeconds:0} s (waited {waited.Elapsed.TotalSeconds:0.000} s in {waits} Waits).");
            }
            ReportWait(1, left, completed, mustNotTimeOut: false);
            waits++;
        }
        // Pending wakeups are consumed one Wait each; then the context is empty.
        while (_model.WakeupsAtMost > 0)
        {
            ReportWait(1, TimeSpan.Zero, completed, mustNotTimeOut: false);
        }
        AioWaitReason last = ReportWait(1, TimeSpan.Zero, completed, mustNotTimeOut: false);
        AioWaitReason expected = _sequence.WaitWithoutPendingRequests ? AioWaitReason.TimedOut : AioWaitReason.NoRequests;
        if (last != expected)
        {
            throw new ModelViolation($"A Wait on the drained context returned {last}; expected {expected}.");
        }
        _coverage.Count("end: drained");
    }

    /// <summary>Disposes the context with whatever is in flight (SPEC §1: it cancels what it can, reaps the rest, never
    /// throws); then every request must be Completed, each with a result the model allows.</summary>
    private void EndByDispose()
    {
        List<RequestModel> inFlight = _model.InFlight.OrderBy(r => r.Operation == ModelOperation.Flush).ToList();
        _coverage.Count(inFlight.Count == 0 ? "end: disposed, nothing in flight" : "end: disposed with requests in flight");
        _context.Dispose();
        _contextDisposed = true;
        var results = new List<string>();
        foreach (RequestModel request in inFlight)
        {
            if (request.Request.State != AioRequestState.Completed)
            {
                throw new ModelViolation($"After Dispose {request} is {request.Request.State}, not Completed.");
            }
            results.Add($"{request}: {request.Request.Status}");
            CheckFinished(request, byDispose: true);
        }
        _trace.Add($"    → Dispose finished {(results.Count == 0 ? "nothing" : string.Join(", ", results))}");
        if (_context.Outstanding != 0)
        {
            throw new ModelViolation($"After Dispose the context says {_context.Outstanding} requests are outstanding.");
        }
        CheckState();
    }

    public void Dispose()
    {
        try
        {
            if (!_contextDisposed)
            {
                _context.Dispose(); // on the sequence's thread: an owned context takes it from no other
            }
        }
        finally
        {
            _hold?.Dispose(); // even when a broken context threw: its descriptors must not outlive the test
        }
        foreach (RequestModel request in _model.Requests)
        {
            if (request.Request.State != AioRequestState.Submitted)
            {
                request.Request.Dispose();
            }
        }
        _file.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The test's own directory is removed at its end in any case.
        }
    }
}
