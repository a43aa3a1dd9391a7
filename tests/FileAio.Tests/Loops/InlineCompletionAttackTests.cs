using System.Runtime.CompilerServices;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// The inline mode (<see cref="AioFileOptions.InlineCompletions"/>) against what ordinary code does that code on the
/// thread pool may do: leave an AsyncLocal set in a raw continuation (the pool resets a thread's ExecutionContext after
/// each item), answer a cancelled read by reading again (a timeout-and-retry loop) while its host is disposed.
/// Each case runs with the option off too: what passes there is what the inline mode changes.
/// </summary>
public sealed class InlineCompletionAttackTests : LoopTest
{
    private static readonly AsyncLocal<string?> s_value = new();

    private static async Task WaitInFlight(AioFile file, int count)
    {
        for (int i = 0; i < 5000 && file.OperationsInFlight < count; i++)
        {
            await Task.Delay(1);
        }
        Assert.Equal(count, file.OperationsInFlight);
    }

    // A raw continuation (UnsafeOnCompleted: no ExecutionContext flows, as Pipelines' and many awaiters' code registers
    // them) that sets an AsyncLocal and returns. On the pool the thread's context is reset after the item, so the next
    // continuation starts clean; on the engine thread nothing resets it, and every later raw continuation there sees it.
    [Theory, EachHost(false), EachHost(true)]
    public async Task AnAsyncLocalLeftSetByARawContinuation_IsNotSeenByTheNextContinuation(string host, bool inline)
    {
        Use(host);
        AioEngineHost single = NewHost(threads: 1);
        HeldFifo fifo = NewHeldFifo(single, inlineCompletions: inline);

        Task<(string? Seen, bool OnEngine)> ReadThenLook(bool set) => Task.Run(() =>
        {
            var seen = new TaskCompletionSource<(string?, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
            ValueTaskAwaiter<int> awaiter = fifo.File.ReadAsync(new byte[1], 0).GetAwaiter();
            awaiter.UnsafeOnCompleted(() =>
            {
                string? before = s_value.Value;
                awaiter.GetResult();
                if (set)
                {
                    s_value.Value = "left by an earlier continuation";
                }
                seen.SetResult((before, AioLoop.Current is not null));
            });
            return seen.Task;
        });

        Task<(string?, bool)> first = ReadThenLook(set: true);
        await WaitInFlight(fifo.File, 1);
        fifo.Feed(1, 1);
        (_, bool firstOnEngine) = await first.WaitAsync(LongTimeout);
        Task<(string?, bool)> second = ReadThenLook(set: false);
        await WaitInFlight(fifo.File, 1);
        fifo.Feed(1, 2);
        (string? seenBySecond, bool secondOnEngine) = await second.WaitAsync(LongTimeout);

        Assert.Equal((inline, inline), (firstOnEngine, secondOnEngine));
        Assert.Null(seenBySecond);
    }

    // "Try again on a timeout": a flow that answers OperationCanceledException by reading again. The host's Dispose
    // cancels its read; without the option the retry runs on the pool, reaches a closed loop and is cancelled there,
    // and Dispose returns. With it, the retry runs inline in the engine thread's Shutdown, goes straight into the
    // backlog Shutdown is draining, is cancelled there and retried again — the engine thread never ends, and neither
    // does Dispose. (The loop mode documents this for loop code; the inline mode says nothing, and this is ordinary code.)
    [Theory, EachHost(false), EachHost(true)]
    public async Task HostDispose_WhileAFlowRetriesItsCancelledRead_Returns(string host, bool inline)
    {
        Use(host);
        AioEngineHost own = NewHost(threads: 1);
        HeldFifo fifo = NewHeldFifo(own, inlineCompletions: inline);
        var stop = new StrongBox<int>();
        long retries = 0;

        Task flow = Task.Run(async () =>
        {
            while (Volatile.Read(ref stop.Value) == 0)
            {
                try
                {
                    await fifo.File.ReadAsync(new byte[8], 0);
                    return;
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref retries); // a timeout, say: try again
                }
            }
        });
        await WaitInFlight(fifo.File, 1);
        await Task.Delay(30);

        Task dispose = Task.Run(own.Dispose);
        bool returned = await Infrastructure.Bounded.EndsWithin(dispose, Infrastructure.Bounded.Bound);
        Volatile.Write(ref stop.Value, 1); // lets the flow go, so that the test ends either way
        await dispose.WaitAsync(LongTimeout);
        await flow.WaitAsync(LongTimeout);

        Assert.True(returned, $"AioEngineHost.Dispose did not return within {Infrastructure.Bounded.Bound.TotalSeconds:0} s; the flow retried {Interlocked.Read(ref retries)} times meanwhile.");
    }
}
