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
    public async Task RandomSequences_AgreeWithTheModel(string host)
    {
        HostVariant variant = TestEngines.Host(host);
        variant.Engine.SkipUnlessSupported();
        Require.Linux(); // the held reads are reads of a FIFO
        AioEngineHost engineHost = Own(variant.Create(threads: 2));
        var coverage = new ModelCoverage();

        await ModelBudget.SampleAsync(FileSequence.Generator, ModelBudget.FileSequences,
            sequence => FileRun.CheckAsync(sequence, variant, engineHost, PathOf($"sequence-{Interlocked.Increment(ref _sequenceNumber)}"), coverage),
            sequence => sequence.Describe());

        coverage.Report(
            "Read: verified", "Read: verified, short", "Write: applied", "Flush: completed", "Read: canceled", "Write: canceled, not applied",
            "HeldRead: canceled", "HeldRead: canceled by Dispose", "end: disposed with operations in flight");
    }
}
