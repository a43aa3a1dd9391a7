using FileAio.Cli.Bench;
using System.Diagnostics;
using FileAio.Buffers;

namespace FileAio.Bench;

/// <summary>
/// The thread-per-core mode (<see cref="AioLoop"/>): one engine host with one engine thread, the file opened on that
/// thread (so it is bound to its loop), and <c>iodepth</c> async loops started there with
/// <see cref="AioLoop.RunAsync(Func{Task}, CancellationToken)"/>, each awaiting
/// <see cref="AioFile.ReadAsync(Memory{byte}, long, CancellationToken)"/> into its own aligned buffer. Every read goes
/// straight into the thread's engine and resumes its loop inline there: the program's I/O runs on one thread, as fio's
/// job does.
/// </summary>
internal sealed class LoopRandRead
{
    /// <summary>Reads a flow completes without suspending before it gives the loop back to the others.</summary>
    private const int InlineRunLimit = 32;

    private readonly Options _options;
    private volatile bool _stop;

    public LoopRandRead(Options options) => _options = options;

    /// <summary>One async loop's counters: written on the engine thread, read by the main thread at the phase edges.</summary>
    private sealed class Counters
    {
        public long Ops;
        public long Errors;
    }

    public Measurement Run()
    {
        using AioEngineHost host = AioEngineHost.Create(_options.Engine, threads: 1);
        AioLoop loop = host.Loops[0];
        var fileOptions = new AioFileOptions { Direct = _options.Direct, Host = host };
        AioFile file = loop.RunAsync(() => Task.FromResult(AioFile.Open(_options.File!, FileMode.Open, FileAccess.Read, fileOptions)))
            .GetAwaiter().GetResult();
        var buffers = new AlignedBuffer[_options.IoDepth];
        var counters = new Counters[_options.IoDepth];
        var flows = new Task[_options.IoDepth];
        for (int i = 0; i < flows.Length; i++)
        {
            buffers[i] = new AlignedBuffer(_options.BlockSize);
            counters[i] = new Counters();
            (AlignedBuffer buffer, Counters mine, ulong seed) = (buffers[i], counters[i], 0x5EEDUL + (ulong)i);
            flows[i] = loop.RunAsync(() => ReadLoop(file, buffer, mine, seed));
        }

        Thread.Sleep(TimeSpan.FromSeconds(_options.WarmupSeconds));
        (long ops0, long errors0) = Sum(counters);
        TimeSpan cpu0 = ProcessCpu.Now();
        // The reads and their continuations run on the engine thread, the wakeups of this one elsewhere: count
        // allocations process-wide, as for the other async modes.
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();

        Thread.Sleep(TimeSpan.FromSeconds(_options.RuntimeSeconds));

        long end = Stopwatch.GetTimestamp();
        (long ops1, long errors1) = Sum(counters);
        long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu1 = ProcessCpu.Now();

        _stop = true;
        Task.WaitAll(flows);
        file.Dispose(); // from this thread, which is on no loop, with nothing in flight
        foreach (AlignedBuffer buffer in buffers)
        {
            buffer.Dispose();
        }
        return new Measurement(
            "loop", _options.Direct, _options.BlockSize, _options.IoDepth,
            Stopwatch.GetElapsedTime(start, end).TotalSeconds, ops1 - ops0, errors1 - errors0, (cpu1 - cpu0).TotalSeconds,
            alloc1 - alloc0, "process");
    }

    private async Task ReadLoop(AioFile file, AlignedBuffer buffer, Counters counters, ulong seed)
    {
        var random = new XorShift(seed);
        Memory<byte> memory = buffer.Memory;
        int inlineInARow = 0;
        while (!_stop)
        {
            long offset = random.NextOffset(_options.Size, _options.BlockSize);
            ValueTask<int> pending = file.ReadAsync(memory, offset);
            // A read the page cache serves completes on the spot, and a flow whose reads all do would never give the
            // loop back: the other flows would not run (docs/async.md, "Do not block on a loop"). Yield now and then.
            if (pending.IsCompleted && ++inlineInARow == InlineRunLimit)
            {
                inlineInARow = 0;
                await Task.Yield();
            }
            int read = await pending; // resumes here, on the loop
            if (read != memory.Length)
            {
                counters.Errors++;
            }
            Volatile.Write(ref counters.Ops, counters.Ops + 1);
        }
    }

    private static (long Ops, long Errors) Sum(Counters[] counters)
    {
        long ops = 0, errors = 0;
        foreach (Counters c in counters)
        {
            ops += Volatile.Read(ref c.Ops);
            errors += Volatile.Read(ref c.Errors);
        }
        return (ops, errors);
    }
}
