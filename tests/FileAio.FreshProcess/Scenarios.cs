using System.Runtime.CompilerServices;
using FileAio.Tests.Infrastructure;

namespace FileAio.FreshProcess;

/// <summary>The scenarios, by name. Each names the rule of SPEC.md it checks.</summary>
internal static class Scenarios
{
    public static readonly IReadOnlyDictionary<string, Func<Scenario, Task>> All = new Dictionary<string, Func<Scenario, Task>>
    {
        ["cancel-after-read"] = CancelAfterRead,
        ["early-result"] = EarlyResult,
        ["second-result"] = SecondResult,
        ["auto-under-seccomp"] = AutoUnderSeccomp.Run,
        ["inline-continuation-throws"] = InlineContinuationThrows.Run,
        ["flush-after-handle-closed"] = FlushAfterHandleClosed,
    };

    /// <summary>
    /// SPEC §4: a token "cancels in the kernel ... whenever it fires". Each round, on a fresh host: a read of an empty
    /// FIFO, cancelled right after ReadAsync returns (after the delay asked for, spent spinning), must end with
    /// OperationCanceledException. The first round is the first operation of the process: the engine runs its code
    /// for the first time then, slowly, which widens any window in which a cancel finds nothing to cancel. The
    /// runtime's own cancellation code is warmed up first, so that the cancel reaches the library within microseconds
    /// of the delay and the delay says where it lands.
    /// </summary>
    private static Task CancelAfterRead(Scenario scenario)
    {
        WarmUpCancellation();
        for (int round = 0; round < scenario.Rounds; round++)
        {
            using var fifo = new TestFifo(scenario.PathOf($"empty-{round}.fifo"));
            byte[] buffer = Enumerable.Repeat((byte)0xEE, 64).ToArray();
            using var cancel = new CancellationTokenSource();
            AioEngineHost host = scenario.NewHost(); // disposed only on success: after a failure something may still hold it
            AioFile file = Scenario.Open(host, fifo.Path);
            ValueTask<int> call = file.ReadAsync(buffer, 0, cancel.Token);
            SpinFor(scenario.DelayMicroseconds);
            cancel.Cancel();
            Task<int> read = call.AsTask();
            if (!Scenario.EndsWithin(read))
            {
                fifo.Feed(64); // let it go, so the process can end
                Scenario.EndsWithin(read);
                throw Scenario.Stop($"round {round} of {scenario.Rounds} (a fresh host each): a read of an empty FIFO, cancelled " +
                    $"{scenario.DelayMicroseconds} µs after ReadAsync returned, did not end within {Scenario.Bound.TotalSeconds:0} s; fed, it ended with {Scenario.Outcome(read)}.");
            }
            if (!read.IsCanceled)
            {
                throw Scenario.Stop($"round {round}: the cancelled FIFO read ended with {Scenario.Outcome(read)}, not OperationCanceledException.");
            }
            Scenario.Check(buffer.All(b => b == 0xEE), $"round {round}: the cancelled read wrote its buffer.");
            DisposeWithin(file, $"round {round}: the FIFO's file");
            DisposeWithin(host, $"round {round}: the host");
        }
        Scenario.Info($"{scenario.Rounds} cancelled reads ended cancelled.");
        return Task.CompletedTask;
    }

    /// <summary>
    /// SPEC §7 (bad input is an error, not a crash): a caller closes AioFile.Handle (which it is told not to do), then
    /// flushes. A write there fails in the call (its handle reference cannot be taken); the flush must fail too —
    /// with an exception to its caller — and must not take the process down on the engine thread.
    /// </summary>
    private static async Task FlushAfterHandleClosed(Scenario scenario)
    {
        AioEngineHost host = scenario.NewHost();
        AioFile file = Scenario.Open(host, scenario.PathOf("closed.bin"), FileMode.CreateNew);
        await file.WriteAsync(new byte[4096], 0);
        file.Handle.Dispose();
        Task flush;
        try
        {
            flush = file.FlushAsync().AsTask();
        }
        catch (Exception e)
        {
            Scenario.Info($"FlushAsync on a closed handle threw in the call: {e.GetType().Name}.");
            return;
        }
        if (!Scenario.EndsWithin(flush))
        {
            throw Scenario.Stop("a flush of a file whose handle the caller closed did not end.");
        }
        Scenario.Info($"the flush ended with {flush.Status} ({flush.Exception?.InnerException?.GetType().Name}).");
        Scenario.Check(!flush.IsCompletedSuccessfully, "a flush of a closed handle reported success.");
    }

    /// <summary>
    /// SPEC §4: "Reading [a ValueTask's] result early (before completion) ... throws InvalidOperationException and
    /// changes nothing; the pooled operation behind it is reused only after its one valid read." The read is then fed
    /// and must return its own bytes, and many later operations on the same host must return exactly theirs.
    /// </summary>
    private static async Task EarlyResult(Scenario scenario)
    {
        AioEngineHost host = scenario.NewHost(); // disposed only on success: after a failure something may still hold it
        (AioFile file, Memory<byte> buffer, long offset, Action release, byte[] expected) = scenario.HeldRead(host, "held");
        ValueTask<int> read = file.ReadAsync(buffer, offset);
        if (read.IsCompleted)
        {
            throw Scenario.Stop("the held read completed at once: the scenario's premise does not hold");
        }

        try
        {
            int early = read.Result;
            Scenario.Fail($"Result of a pending read returned {early} instead of throwing InvalidOperationException.");
        }
        catch (InvalidOperationException)
        {
            Scenario.Info("Result of the pending read threw InvalidOperationException.");
        }
        catch (Exception e)
        {
            Scenario.Fail($"Result of a pending read threw {e.GetType().Name} ({e.Message}), not InvalidOperationException.");
        }
        try
        {
            Scenario.Check(!read.IsCompleted, "after the early Result, the still pending read says it completed.");
        }
        catch (InvalidOperationException)
        {
            Scenario.Fail("after the early Result threw, the ValueTask of the read still in flight is no longer valid " +
                "(IsCompleted throws InvalidOperationException): the early Result reset its pooled operation and gave it back to the pool.");
        }

        await VerifyManyReads(scenario, host, "while the misused read was still in flight");

        release();
        try
        {
            int count = await read.AsTask().WaitAsync(Scenario.Bound * 3);
            Scenario.Check(count == expected.Length, $"the misused read, fed, returned {count} bytes; {expected.Length} were fed.");
            Scenario.Check(buffer.Span[..Math.Min(count, buffer.Length)].SequenceEqual(expected.AsSpan(0, Math.Min(count, expected.Length))),
                "the misused read's buffer does not hold the bytes it was fed.");
        }
        catch (TimeoutException)
        {
            Scenario.Fail($"the misused read, fed, did not complete within {Scenario.Bound.TotalSeconds * 3:0} s.");
        }
        catch (Exception e)
        {
            Scenario.Fail($"awaiting the misused read, once fed, threw {e.GetType().Name}: {e.Message}");
        }

        await VerifyManyReads(scenario, host, "after the misused read completed");
        DisposeWithin(file, "the file of the misused read");
        DisposeWithin(host, "the host");
    }

    /// <summary>
    /// SPEC §4: "A returned ValueTask is consumed once. Reading its result ... twice throws InvalidOperationException and
    /// changes nothing." The ValueTask is consumed through AsTask; awaiting it, and reading its result, must then throw;
    /// many later operations on the same host must return exactly their own bytes and counts.
    /// </summary>
    private static async Task SecondResult(Scenario scenario)
    {
        AioEngineHost host = scenario.NewHost(); // disposed only on success: after a failure something may still hold it
        (AioFile file, Memory<byte> buffer, long offset, Action release, byte[] expected) = scenario.HeldRead(host, "held");
        ValueTask<int> read = file.ReadAsync(buffer, offset);
        Task<int> consumed = read.AsTask(); // the one consumer
        // (Awaiting the ValueTask now, while AsTask() waits on it, is not checked: its OnCompleted throws, and the
        // runtime rethrows an exception from an awaiter's OnCompleted on the thread pool, which ends any process.)

        release();
        if (!Scenario.EndsWithin(consumed, Scenario.Bound * 3))
        {
            throw Scenario.Stop("the read, fed, did not complete through AsTask()");
        }
        Scenario.Check(consumed.Status == TaskStatus.RanToCompletion && consumed.Result == expected.Length,
            $"the read, fed, ended with {Scenario.Outcome(consumed)}; {expected.Length} bytes were fed.");
        Scenario.Check(buffer.Span.SequenceEqual(expected), "the read's buffer does not hold the bytes it was fed.");

        await ExpectInvalidOperation(async () => await read, "awaiting the ValueTask after AsTask() consumed it");
        await ExpectInvalidOperation(() => Task.FromResult(read.GetAwaiter().GetResult()), "GetAwaiter().GetResult() of the ValueTask after AsTask() consumed it");
        await ExpectInvalidOperation(() => Task.FromResult(read.Result), "Result of the ValueTask after AsTask() consumed it");

        await VerifyManyReads(scenario, host, "after the ValueTask's result was asked for a second time");
        DisposeWithin(file, "the file of the misused read");
        DisposeWithin(host, "the host");
    }

    /// <summary>Runs the runtime's own cancellation code once (a registration on a token that is then cancelled),
    /// nothing of FileAio's: a cancel right after a call then reaches the library in microseconds rather than the
    /// millisecond that compiling the runtime's code takes in a fresh process.</summary>
    private static void WarmUpCancellation()
    {
        using var warm = new CancellationTokenSource();
        var called = new StrongBox<int>();
        using (warm.Token.UnsafeRegister(static state => Interlocked.Increment(ref ((StrongBox<int>)state!).Value), called))
        {
            warm.Cancel();
        }
        Scenario.Check(called.Value == 1, "the warm-up cancellation did not run its callback.");
    }

    /// <summary>Busy-waits (no sleep: a sleep would take far longer than asked) for about <paramref name="microseconds"/>.</summary>
    private static void SpinFor(int microseconds)
    {
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + microseconds * System.Diagnostics.Stopwatch.Frequency / 1_000_000;
        while (System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(10);
        }
    }

    /// <summary>Disposes <paramref name="disposable"/> (a file, a host), failing the scenario if that does not return within the bound (an
    /// operation the misuse left counted in flight for ever would hold it).</summary>
    private static void DisposeWithin(IDisposable disposable, string what)
    {
        if (!Scenario.EndsWithin(Task.Factory.StartNew(disposable.Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)))
        {
            throw Scenario.Stop($"disposing {what} did not return within {Scenario.Bound.TotalSeconds:0} s.");
        }
    }

    private static async Task ExpectInvalidOperation(Func<Task> misuse, string what)
    {
        try
        {
            await misuse();
            Scenario.Fail($"{what} did not throw InvalidOperationException.");
        }
        catch (InvalidOperationException)
        {
            Scenario.Info($"{what} threw InvalidOperationException.");
        }
        catch (Exception e)
        {
            Scenario.Fail($"{what} threw {e.GetType().Name} ({e.Message}), not InvalidOperationException.");
        }
    }

    /// <summary>Many reads of a pattern file on <paramref name="host"/>, 16 at a time, each of its own length and
    /// offset: every one must return exactly its count and its bytes. A pooled operation shared by two callers shows
    /// here as a wrong count, wrong bytes, an exception or a crash.</summary>
    private static async Task VerifyManyReads(Scenario scenario, AioEngineHost host, string when)
    {
        const int Loops = 16, ReadsEach = 200, FileLength = 256 * 1024;
        AioFile file = Scenario.Open(host, scenario.CreatePatternFile($"verify-{Guid.NewGuid():N}.bin", FileLength));
        int wrong = 0;

        async Task Loop(int loop)
        {
            var random = new Random(loop);
            var buffer = new byte[4096];
            for (int i = 0; i < ReadsEach; i++)
            {
                int length = random.Next(1, buffer.Length + 1);
                int offset = random.Next(0, FileLength - length);
                Array.Fill(buffer, (byte)0xEE);
                string? problem;
                try
                {
                    int count = await file.ReadAsync(buffer.AsMemory(0, length), offset).ConfigureAwait(false);
                    problem = count != length ? $"returned {count} bytes"
                        : Enumerable.Range(0, length).Any(j => buffer[j] != Scenario.PatternByte(offset + j)) ? "returned other bytes than the file's"
                        : null;
                }
                catch (Exception e)
                {
                    problem = $"threw {e.GetType().Name} ({e.Message})";
                }
                if (problem is not null && Interlocked.Increment(ref wrong) <= 5)
                {
                    Scenario.Fail($"{when}: loop {loop}, read {i} ({length} bytes at {offset}) {problem}.");
                }
            }
        }

        Task all = Task.WhenAll(Enumerable.Range(0, Loops).Select(l => Task.Run(() => Loop(l))));
        if (!Scenario.EndsWithin(all, TimeSpan.FromSeconds(20)))
        {
            throw Scenario.Stop($"{when}: {Loops * ReadsEach} reads of a regular file did not all end within 20 s.");
        }
        Scenario.Check(wrong == 0, $"{when}: {wrong} of {Loops * ReadsEach} reads went wrong.");
        if (wrong == 0)
        {
            Scenario.Info($"{when}: {Loops * ReadsEach} reads returned exactly their bytes.");
        }
        DisposeWithin(file, $"{when}: the file of the reads");
    }
}
