using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Model;

/// <summary>
/// The async layer (SPEC §4) as a state machine: random sequences of ReadAsync, WriteAsync and FlushAsync left in
/// flight together, tokens cancelled before the call or while in flight, reads of an empty FIFO, awaits in random
/// order and DisposeAsync (with operations in flight or not), each outcome checked against the expected file (see
/// <see cref="FileRun"/>). Runs on every host variant; the sequences of one test share its host.
/// </summary>
public sealed class FileModelTests : FileAioTest
{
    private int _sequenceNumber;

    [Theory, EachHost]
    public Task RandomSequences_AgreeWithTheModel(string host) => RunSequences(host, onLoop: false, inline: false);

    /// <summary>The same sequences run as code on one of the host's loops (<see cref="AioLoop"/>): the files open there
    /// and are bound to it, so every operation takes the loop's direct path and every continuation runs inline on the
    /// loop thread — the model must not be able to tell.</summary>
    [Theory, EachHost]
    public Task RandomSequences_OnALoop_AgreeWithTheModel(string host) => RunSequences(host, onLoop: true, inline: false);

    /// <summary>The same sequences from the pool, on files opened with <see cref="AioFileOptions.InlineCompletions"/>:
    /// after its first await of an operation the run goes on inline on an engine thread, its checks and its next
    /// operations included — the model must not be able to tell either.</summary>
    [Theory, EachHost]
    public Task RandomSequences_WithInlineCompletions_AgreeWithTheModel(string host) => RunSequences(host, onLoop: false, inline: true);

    private async Task RunSequences(string host, bool onLoop, bool inline)
    {
        HostVariant variant = TestEngines.Host(host);
        variant.Engine.SkipUnlessSupported();
        Require.Linux(); // the held reads are reads of a FIFO
        AioEngineHost engineHost = Own(variant.Create(threads: 2));
        var coverage = new ModelCoverage();

        await ModelBudget.SampleAsync(FileSequence.Generator, ModelBudget.FileSequences,
            sequence =>
            {
                string directory = PathOf($"sequence-{Interlocked.Increment(ref _sequenceNumber)}");
                return onLoop ? engineHost.Loops[0].RunAsync(() => FileRun.CheckAsync(sequence, variant, engineHost, directory, coverage))
                    : inline ? Task.Run(() => FileRun.CheckAsync(sequence, variant, engineHost, directory, coverage, inlineCompletions: true))
                    : FileRun.CheckAsync(sequence, variant, engineHost, directory, coverage);
            },
            sequence => sequence.Describe());
        // A run that ended inline on an engine thread completed its task there, and this method may have resumed there
        // with it: leave before the host is disposed (which refuses on its own thread). Nothing current there: the
        // yield queues to the pool.
        await Task.Yield();

        coverage.Report(
            "Read: verified", "Read: verified, short", "Write: applied", "Flush: completed", "Read: canceled", "Write: canceled, not applied",
            "HeldRead: canceled", "HeldRead: canceled by Dispose", "end: disposed with operations in flight");
    }
}
