using System.Diagnostics;
using FASTER.core;
using FileAio.Cli.Bench;

namespace FileAio.Faster.Bench;

/// <summary>
/// One YCSB client thread with its own FASTER session: it keeps up to <c>depth</c> operations in flight — each a read
/// (<c>read-percent</c> of them) or a blind upsert of a uniformly chosen key — and sleeps while all of them wait for the
/// device. This is a closed loop: every latency is an operation's, from its call to its completion, and a thread that
/// has nothing to do blocks instead of spinning, so the CPU time per operation means something.
/// </summary>
/// <remarks>
/// Counters have one writer, this thread; the main thread reads them at the edges of the measured phase (Volatile).
/// Latencies go into a histogram this thread alone touches; it starts a fresh one when it first sees
/// <see cref="RunPhase.Measure"/>, and the main thread reads it after the thread has ended.
/// </remarks>
internal sealed class YcsbWorker
{
    private readonly FasterKV<long, Record> _store;
    private readonly RunClock _clock;
    private readonly long _keys;
    private readonly int _depth;
    private readonly int _readPercent;
    private readonly ulong _seed;
    private readonly Thread _thread;
    private int _outstanding; // operations pending in the session (this thread only)

    public long Ops;       // completed, reads and upserts
    public long Reads;
    public long DiskReads; // reads that went pending, i.e. to the device
    public long Upserts;
    public long Errors;    // a read that did not find its key's record, a faulted upsert

    public YcsbWorker(FasterKV<long, Record> store, RunClock clock, BenchOptions options, int index)
    {
        _store = store;
        _clock = clock;
        _keys = options.Keys;
        _depth = options.Depth;
        _readPercent = options.ReadPercent;
        _seed = 0x5EED_FA57UL + (ulong)index;
        _thread = new Thread(Run) { Name = $"ycsb {index}", IsBackground = true };
    }

    public LatencyStats Latency { get; private set; } = new();

    public Exception? Failure { get; private set; }

    public void Start() => _thread.Start();

    public void Join() => _thread.Join();

    private void Run()
    {
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            Failure = e; // reported by the run: a worker that died must not pass for a slow one
        }
    }

    private void Loop()
    {
        // For(...).NewSession<F>() types the session by the functions class, so FASTER calls them without an interface.
        using var session = _store.For(new YcsbFunctions(this)).NewSession<YcsbFunctions>();
        var random = new XorShift(_seed);
        Empty input = default;
        Record output = default;
        Record value = default;
        long stamp = 0;
        bool measuring = false;
        while (true)
        {
            RunPhase phase = _clock.Phase;
            if (phase == RunPhase.Stop)
            {
                break;
            }
            if (phase == RunPhase.Measure && !measuring)
            {
                measuring = true;
                Latency = new LatencyStats();
            }

            // Fill the window. Bounded by depth in steps too, so a store served wholly from memory (where nothing goes
            // pending) still comes back to look at the phase.
            for (int i = 0; i < _depth && _outstanding < _depth; i++)
            {
                long key = (long)random.NextBelow((ulong)_keys);
                long start = Stopwatch.GetTimestamp();
                if ((int)random.NextBelow(100) < _readPercent)
                {
                    Status status = session.Read(ref key, ref input, ref output, start);
                    if (status.IsPending)
                    {
                        _outstanding++;
                        continue;
                    }
                    Done(start, ok: status.Found && output.Key == key, read: true, disk: false);
                }
                else
                {
                    value.Key = key;
                    value.Stamp = ++stamp;
                    Status status = session.Upsert(ref key, ref value, start);
                    if (status.IsPending)
                    {
                        // Not expected: FASTER appends a blind upsert in memory. Finish it here rather than count it
                        // against the window, whose completions arrive only for reads.
                        session.CompletePending(wait: true);
                    }
                    Done(start, ok: !status.IsFaulted, read: false, disk: false);
                }
            }

            session.CompletePending(wait: false); // runs PendingReadDone for every read whose I/O is back
            if (_outstanding >= _depth)
            {
                ValueTask ready = session.ReadyToCompletePendingAsync();
                if (ready.IsCompleted)
                {
                    ready.GetAwaiter().GetResult();
                }
                else
                {
                    ready.AsTask().Wait(); // sleeps until a device callback has handed FASTER a finished read
                }
            }
        }
        session.CompletePending(wait: true);
    }

    /// <summary>From <see cref="YcsbFunctions.ReadCompletionCallback"/>, on this thread.</summary>
    public void PendingReadDone(long start, bool ok)
    {
        _outstanding--;
        Done(start, ok, read: true, disk: true);
    }

    private void Done(long start, bool ok, bool read, bool disk)
    {
        Latency.Record(start, Stopwatch.GetTimestamp());
        if (read)
        {
            Volatile.Write(ref Reads, Reads + 1);
            if (disk)
            {
                Volatile.Write(ref DiskReads, DiskReads + 1);
            }
        }
        else
        {
            Volatile.Write(ref Upserts, Upserts + 1);
        }
        if (!ok)
        {
            Volatile.Write(ref Errors, Errors + 1);
        }
        Volatile.Write(ref Ops, Ops + 1);
    }
}
