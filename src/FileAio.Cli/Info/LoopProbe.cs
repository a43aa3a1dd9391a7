using System.Diagnostics;
using System.Diagnostics.Metrics;
using FileAio.Buffers;
using HdrHistogram;

namespace FileAio.Cli.Info;

/// <summary>
/// The loop mode's short probe for <c>fileaio info</c>: starts a host as an application would
/// (<c>AioEngineHost.Create(Auto, threads: 0)</c>), runs a few 4 KiB reads on loop 0 while another thread posts a
/// trivial piece of work to each loop in turn, for <see cref="Duration"/>, and reports how long posted work waited to
/// run and the loop lag the library's meter (<c>fileaio.loop.lag</c>) saw on each loop.
/// </summary>
/// <remarks>Loop 0 is busy with reads, the others idle between posts: the post-to-run time of an idle loop is
/// mostly the time this machine takes to wake a sleeping thread. The reads go through the engine
/// (<c>InlineCachedReads</c> off), so loop 0 really submits and reaps.</remarks>
internal static class LoopProbe
{
    public static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(200);
    private const int ReadFlows = 4;
    private const int BlockSize = 4096;
    private const int FileSize = 1 << 20;

    public static InfoFacts.LoopFacts Run()
    {
        try
        {
            return RunCore();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return new InfoFacts.LoopFacts(null, null, e.Message);
        }
    }

    private static InfoFacts.LoopFacts RunCore()
    {
        using var lag = new LagMeter();
        lag.Observe(); // loops other hosts of this process run (none, usually): not ours
        string path = Path.Combine(Path.GetTempPath(), $"fileaio-info-loop-{Environment.ProcessId}-{Guid.NewGuid():N}.dat");
        using AioEngineHost host = AioEngineHost.Create(AioEngineKind.Auto, threads: 0);
        try
        {
            File.WriteAllBytes(path, new byte[FileSize]);
            AioLoop first = host.Loops[0];
            var fileOptions = new AioFileOptions { Host = host, InlineCachedReads = false };
            AioFile file = first.RunAsync(() => Task.FromResult(AioFile.Open(path, FileMode.Open, FileAccess.Read, fileOptions)))
                .GetAwaiter().GetResult();
            var reads = new Readers(file);
            Task[] flows = [.. Enumerable.Range(0, ReadFlows).Select(i => first.RunAsync(() => reads.ReadUntilStoppedAsync((ulong)i + 1)))];

            foreach (AioLoop loop in host.Loops)
            {
                PostAndWait(loop); // the first runs compile the code: not what a loop's lag usually is
            }
            Dictionary<int, double> ours = lag.ObserveNew(); // our loops appear, and their lag counts from here

            var postToRun = host.Loops.Select(_ => new LongHistogram(10_000_000_000, 3)).ToArray();
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < Duration)
            {
                foreach (AioLoop loop in host.Loops)
                {
                    postToRun[loop.Index].RecordValue(Math.Max(1, TicksToNanoseconds(PostAndWait(loop))));
                }
                Thread.Sleep(1); // let the idle loops go to sleep again: what a post from outside usually finds
            }
            double elapsedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            reads.Stop();
            Task.WaitAll(flows);
            file.Dispose(); // from this thread, on no loop, with nothing in flight
            Dictionary<string, double> lagByName = lag.ObserveByName(ours.Keys);

            var loops = host.Loops.Select(loop => new InfoFacts.LoopSample(
                loop.Index,
                (int)postToRun[loop.Index].TotalCount,
                Micro(postToRun[loop.Index].GetValueAtPercentile(50)),
                Micro(postToRun[loop.Index].GetMaxValue()),
                loop.Index == 0 ? reads.Count : 0,
                loop.Index == 0 && reads.Count > 0 ? Micro(reads.Latency.GetValueAtPercentile(50)) : null,
                lagByName.TryGetValue(loop.ToString(), out double us) ? Math.Round(us, 1) : null)).ToList();
            return new InfoFacts.LoopFacts(host.ThreadCount, new InfoFacts.LoopProbeFacts(host.Engine, Math.Round(elapsedMs), loops), null);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Posts a trivial piece of work to <paramref name="loop"/> and waits for it: the ticks from the post
    /// until it started running there.</summary>
    private static long PostAndWait(AioLoop loop)
    {
        long posted = Stopwatch.GetTimestamp();
        long ran = loop.RunAsync(static () => Task.FromResult(Stopwatch.GetTimestamp())).GetAwaiter().GetResult();
        return ran - posted;
    }

    private static long TicksToNanoseconds(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));

    private static double Micro(long nanoseconds) => Math.Round(nanoseconds / 1000.0, 1);

    /// <summary>Async loops on loop 0 reading 4 KiB blocks of the probe file until stopped; only loop 0 touches
    /// the counters and the histogram, and the prober reads them after the loops ended.</summary>
    private sealed class Readers(AioFile file)
    {
        private volatile bool _stop;

        public long Count { get; private set; }

        public LongHistogram Latency { get; } = new(10_000_000_000, 3);

        public void Stop() => _stop = true;

        public async Task ReadUntilStoppedAsync(ulong seed)
        {
            using var buffer = new AlignedBuffer(BlockSize);
            var random = new Bench.XorShift(seed);
            while (!_stop)
            {
                long started = Stopwatch.GetTimestamp();
                await file.ReadAsync(buffer.Memory, random.NextOffset(FileSize, BlockSize)); // back on loop 0
                Latency.RecordValue(Math.Max(1, TicksToNanoseconds(Stopwatch.GetTimestamp() - started)));
                Count++;
            }
        }
    }

    /// <summary>Reads the meter's <c>fileaio.loop.lag</c> gauge: per loop (tags <c>fileaio.loop.id</c>, unique in the
    /// process, and <c>fileaio.loop</c>, the thread's name), the longest stretch in µs since the last observation.</summary>
    private sealed class LagMeter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<int, (string Name, double Us)> _last = [];
        private readonly HashSet<int> _seen = [];

        public LagMeter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "FileAio" && instrument.Name == "fileaio.loop.lag")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            {
                int? id = null;
                string? name = null;
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "fileaio.loop.id" && tag.Value is int i)
                    {
                        id = i;
                    }
                    else if (tag.Key == "fileaio.loop" && tag.Value is string n)
                    {
                        name = n;
                    }
                }
                if (id is int loopId && name is not null)
                {
                    _last[loopId] = (name, value);
                }
            });
            _listener.Start();
        }

        /// <summary>Observes every loop once (which starts a new interval for each) and remembers them.</summary>
        public void Observe()
        {
            _last.Clear();
            _listener.RecordObservableInstruments();
            _seen.UnionWith(_last.Keys);
        }

        /// <summary>Observes, and returns the loops that were not there at the last observation (id → µs).</summary>
        public Dictionary<int, double> ObserveNew()
        {
            var before = new HashSet<int>(_seen);
            Observe();
            return _last.Where(l => !before.Contains(l.Key)).ToDictionary(l => l.Key, l => l.Value.Us);
        }

        /// <summary>Observes, and returns the lag of the loops <paramref name="ids"/> by thread name.</summary>
        public Dictionary<string, double> ObserveByName(IEnumerable<int> ids)
        {
            Observe();
            var wanted = new HashSet<int>(ids);
            return _last.Where(l => wanted.Contains(l.Key)).ToDictionary(l => l.Value.Name, l => l.Value.Us);
        }

        public void Dispose() => _listener.Dispose();
    }
}
