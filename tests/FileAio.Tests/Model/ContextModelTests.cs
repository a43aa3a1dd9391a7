using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Model;

/// <summary>
/// The contract layer (SPEC §1–§3, §7) as a state machine: random sequences of prepares, batched submits, waits,
/// wakeups and cancels on a pool of reusable requests, against a real file and operations held on FIFOs, each step
/// checked against <see cref="ContextModel"/> (see <see cref="ContextRun"/>). Runs on every context variant.
/// </summary>
public sealed class ContextModelTests : FileAioTest
{
    private int _sequenceNumber;

    [Theory, EachContext]
    public void RandomSequences_AgreeWithTheModel(string engine)
    {
        ContextVariant variant = TestEngines.Context(engine);
        variant.Engine.SkipUnlessSupported();
        Require.Linux(); // the held operations are FIFO reads and writes
        var coverage = new ModelCoverage();

        ModelBudget.Sample(ContextSequence.Generator, ModelBudget.ContextSequences,
            sequence => ContextRun.Check(sequence, variant, PathOf($"sequence-{Interlocked.Increment(ref _sequenceNumber)}"), coverage),
            sequence => sequence.Describe());

        coverage.Report(
            "read: verified", "read: verified, short at the end of the file", "write: applied", "flush: completed",
            "cancel: Canceled, held", "cancel: NotSubmitted", "wait: Completed with completions", "wait: Interrupted",
            "wait: woken from another thread", "submit: context full, part accepted", "submit: refused whole, not Prepared",
            "prepare: refused while Submitted", "end: drained", "end: disposed with requests in flight");
    }
}
