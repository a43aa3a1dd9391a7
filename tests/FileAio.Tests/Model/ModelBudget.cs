using CsCheck;

namespace FileAio.Tests.Model;

/// <summary>
/// How many random sequences each model test runs, and how a failing one is reported. CI runs a few thousand in all
/// (16 engine set-ups, well under a minute together); <c>FILEAIO_MODEL_LONG=1</c> runs over 100,000, for a soak
/// before a release or after a change to an engine. A failure is shrunk by CsCheck and reported with its seed:
/// <c>CsCheck_Seed=&lt;seed&gt;</c> in the environment replays it first (the engines' timing still varies, so the
/// same sequence may need a few runs to fail again; the message carries its trace).
/// </summary>
internal static class ModelBudget
{
    public static bool Long { get; } = Environment.GetEnvironmentVariable("FILEAIO_MODEL_LONG") == "1";

    /// <summary>Sequences per context variant: 8 variants, so 2,400 in CI and 72,000 in long mode.</summary>
    public static int ContextSequences => Long ? 9_000 : 300;

    /// <summary>Sequences per host variant: 8 variants, so 2,400 in CI and 36,000 in long mode.</summary>
    public static int FileSequences => Long ? 4_500 : 300;

    /// <summary>How long an operation that must end may take before the model calls it hung.</summary>
    public static TimeSpan MustEndWithin { get; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Failing sequences after which the rest of a run only returns: CsCheck goes on sampling after a failure to find a
    /// smaller one, and a hang costs <see cref="MustEndWithin"/> each time; this many are enough to shrink.
    /// </summary>
    private const int FailuresToShrink = 20;

    /// <summary>Runs <paramref name="check"/> on <paramref name="count"/> generated sequences (on as many threads as
    /// there are cores: every sequence has its own file and context), printing each failing one step by step.</summary>
    public static void Sample<T>(Gen<T> sequences, int count, Action<T> check, Func<T, string> print)
    {
        int failures = 0;
        sequences.Sample(sequence =>
        {
            if (Volatile.Read(ref failures) >= FailuresToShrink)
            {
                return;
            }
            try
            {
                check(sequence);
            }
            catch
            {
                Interlocked.Increment(ref failures);
                throw;
            }
        }, iter: count, print: print);
    }

    /// <summary>The asynchronous form of <see cref="Sample{T}"/>.</summary>
    public static Task SampleAsync<T>(Gen<T> sequences, int count, Func<T, Task> check, Func<T, string> print)
    {
        int failures = 0;
        return sequences.SampleAsync(async sequence =>
        {
            if (Volatile.Read(ref failures) >= FailuresToShrink)
            {
                return;
            }
            try
            {
                await check(sequence);
            }
            catch
            {
                Interlocked.Increment(ref failures);
                throw;
            }
        }, iter: count, print: print);
    }
}
