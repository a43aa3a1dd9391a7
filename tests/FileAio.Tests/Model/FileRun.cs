using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Model;

/// <summary>
/// Runs one generated <see cref="FileSequence"/> against a real <see cref="AioFile"/> on the test's host and against
/// an <see cref="ExpectedFile"/>: operations are started and left in flight, awaited in the sequence's order, and each
/// outcome checked when it is awaited (<see cref="CheckOutcome"/>). The test reads the file back through a handle of
/// its own, not through FileAio, when a cancelled write's fate must be decided, and to compare the whole file at the
/// end. A violation is rethrown with the step it happened at and the trace of what the file answered so far.
/// </summary>
internal sealed partial class FileRun : IAsyncDisposable
{
    private readonly FileSequence _sequence;
    private readonly ModelCoverage _coverage;
    private readonly string _directory;
    private readonly ExpectedFile _model;
    private readonly AioFileOptions _options;
    private readonly AioFile _file;
    private readonly SafeFileHandle _verifier;   // the test's own view of the file
    private readonly List<FileOperation> _inFlight = [];
    private readonly List<string> _trace = [];
    private HeldFifo? _fifo;
    private int _started;
    private bool _disposing;

    private FileRun(FileSequence sequence, AioEngineHost host, bool inlineCachedReads, bool inlineCompletions, string directory, ModelCoverage coverage)
    {
        _sequence = sequence;
        _coverage = coverage;
        _directory = directory;
        _model = new ExpectedFile(sequence.InitialLength, seed: sequence.Steps.Length);
        System.IO.Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "data.bin");
        File.WriteAllBytes(path, _model.InitialContent);
        _options = new AioFileOptions { Host = host, InlineCachedReads = inlineCachedReads, InlineCompletions = inlineCompletions };
        _file = AioFile.Open(path, FileMode.Open, FileAccess.ReadWrite, _options);
        _verifier = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    }

    /// <summary>Runs <paramref name="sequence"/> in a directory of its own, and cleans up whatever happens;
    /// <paramref name="inlineCompletions"/>: its files resume the run inline on their engine thread.</summary>
    public static async Task CheckAsync(FileSequence sequence, HostVariant variant, AioEngineHost host, string directory, ModelCoverage coverage,
        bool inlineCompletions = false)
    {
        await using var run = new FileRun(sequence, host, variant.InlineCachedReads, inlineCompletions, directory, coverage);
        await run.ExecuteAsync(variant.Name);
    }

    /// <summary>A FIFO nobody writes to, opened on the same host; made on first use.</summary>
    private HeldFifo Fifo
    {
        get
        {
            if (_fifo is null)
            {
                string path = Path.Combine(_directory, "held.fifo");
                Assert.Equal(0, TestNative.mkfifo(path, 0x180));
                _fifo = new HeldFifo(AioFile.Open(path, FileMode.Open, FileAccess.ReadWrite, _options), path);
            }
            return _fifo;
        }
    }

    private async Task ExecuteAsync(string variant)
    {
        string where = "set-up";
        try
        {
            for (int i = 0; i < _sequence.Steps.Length; i++)
            {
                FileStep step = _sequence.Steps[i];
                where = $"step {i} ({step})";
                _trace.Add($"{i,2}: {step}");
                await DoAsync(step);
            }
            where = "the end";
            await EndAsync();
            _model.Verify(_verifier, "After the end");
        }
        catch (Exception e)
        {
            throw new ModelViolation($"{(e is ModelViolation ? "" : e.GetType().Name + ": ")}{e.Message}{Environment.NewLine}" +
                $"  at {where}, on {variant}; trace of what the file answered:{Environment.NewLine}    " +
                string.Join(Environment.NewLine + "    ", _trace), e is ModelViolation ? null! : e);
        }
    }

    private async Task DoAsync(FileStep step)
    {
        switch (step)
        {
            case StartReadStep s: StartRead(s.Offset, s.Length, s.Token); break;
            case StartWriteStep s: StartWrite(s.Offset, ExpectedFile.WriteData(s.Fill, s.Length), s.Token); break;
            case StartFlushStep s: StartFlush(s.DataOnly, s.Token); break;
            case StartHeldReadStep s: StartHeldRead(s.Cancellable); break;
            case AwaitStep s: await AwaitPickedAsync(s.Pick); break;
            case CancelTokenStep s: await CancelPickedAsync(s.Pick); break;
            default: throw new InvalidOperationException($"Unknown step {step}.");
        }
    }

    /// <summary>Ends the sequence: either every operation that can end is awaited, the held ones are cancelled, and
    /// the file disposed; or the file is disposed at once with everything in flight. Either way every operation must
    /// then end, and the file refuses new ones.</summary>
    private async Task EndAsync()
    {
        if (!_sequence.DisposeInFlight)
        {
            foreach (FileOperation operation in _inFlight.Where(o => o.CanEndOnItsOwn).ToList())
            {
                await AwaitAsync(operation);
            }
            foreach (FileOperation held in _inFlight.Where(o => o.Token is not null && !o.CancelRequested).ToList())
            {
                await CancelAsync(held);
            }
        }
        _coverage.Count(_inFlight.Count == 0 ? "end: disposed, nothing in flight" : "end: disposed with operations in flight");
        _trace.Add($"end: DisposeAsync with [{string.Join(", ", _inFlight)}] in flight");
        _disposing = true;
        Task disposal = DisposeFilesAsync();
        if (!await Bounded.EndsWithin(disposal, ModelBudget.MustEndWithin))
        {
            throw new ModelViolation($"DisposeAsync did not return within {ModelBudget.MustEndWithin.TotalSeconds:0} s with [{string.Join(", ", _inFlight)}] in flight.");
        }
        await disposal;
        foreach (FileOperation operation in _inFlight.ToList())
        {
            await AwaitAsync(operation);
        }
        try
        {
            _ = _file.ReadAsync(new byte[1], 0);
            throw new ModelViolation("ReadAsync after DisposeAsync was accepted (SPEC §4, §7: ObjectDisposedException).");
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task DisposeFilesAsync()
    {
        await _file.DisposeAsync();
        if (_fifo is not null)
        {
            await _fifo.File.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        // Cancels what a failed sequence left in flight; bounded, so that a library that hangs here fails the test
        // (by the descriptors it then leaks) instead of hanging it.
        if (await Bounded.EndsWithin(DisposeFilesAsync(), ModelBudget.MustEndWithin))
        {
            _fifo?.Dispose();
        }
        foreach (FileOperation operation in _inFlight)
        {
            operation.Dispose();
        }
        _verifier.Dispose();
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
