using System.Diagnostics;
using System.Numerics;
using FASTER.core;

namespace FileAio.Faster.Bench;

/// <summary>
/// Cases 1 and 2 of issue 14: FasterKV, YCSB-style — load <c>keys</c> 1 KiB records, then 90 % reads and 10 % blind
/// upserts of uniform keys from <c>threads</c> closed-loop clients — on one device, in a fresh directory.
/// </summary>
/// <remarks>
/// <para>The store's log holds keys × 1 KiB; FASTER keeps the last <c>2^memory-bits</c> bytes of it in memory (128 MiB
/// by default, a tenth of the default 1.25 GiB store), so about nine reads in ten go to the device.</para>
/// <para>The page cache: <c>--cache cold</c> drops the store files' cached pages every few ms (<see cref="CacheDropper"/>),
/// so a buffered device reads the disk as an O_DIRECT one does; <c>--cache warm</c> reads the files into the cache
/// before measuring. Both report how much of the store was resident.</para>
/// </remarks>
internal static class KvBench
{
    public static Report Run(BenchOptions options)
    {
        string directory = Path.Combine(options.Directory!, $"kv-{options.Device}-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            return RunIn(options, directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Report RunIn(BenchOptions options, string directory)
    {
        using IDevice device = BenchDevice.CreateLog(options, Path.Combine(directory, "hlog.log"));
        (string deviceType, string engine) = BenchDevice.Describe(options, device, directory);
        // Two keys per bucket on average (a bucket holds seven): few overflow buckets, so a read is one device read.
        long buckets = (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(options.Keys / 2, 1024));
        using var store = new FasterKV<long, Record>(buckets, new LogSettings
        {
            LogDevice = device,
            PageSizeBits = options.PageBits,
            MemorySizeBits = options.MemoryBits,
            SegmentSizeBits = options.SegmentBits,
        });

        double loadSeconds = Load(store, options.Keys);
        long storeBytes = store.Log.TailAddress - store.Log.BeginAddress;

        CacheDropper? dropper = null;
        if (options.Cache == "cold")
        {
            foreach (string path in Directory.EnumerateFiles(directory))
            {
                using var file = PageCache.Open(path);
                PageCache.Drop(file); // the load's writes went through the cache for a buffered device
            }
            dropper = new CacheDropper(directory, TimeSpan.FromMilliseconds(options.DropMilliseconds));
        }
        else if (options.Cache == "warm")
        {
            foreach (string path in Directory.EnumerateFiles(directory))
            {
                PageCache.Fill(path);
            }
        }

        var clock = new RunClock();
        var workers = new YcsbWorker[options.Threads];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new YcsbWorker(store, clock, options, i);
            workers[i].Start();
        }
        Report report;
        try
        {
            Thread.Sleep(TimeSpan.FromSeconds(options.WarmupSeconds));
            double residentStart = options.Cache == "warm" ? PageCache.ResidentFraction(Directory.EnumerateFiles(directory)) : 0;
            double load0 = MachineLoad.OneMinute();
            Counters c0 = Counters.Of(workers);
            TimeSpan cpu0 = CpuClock.Process(), dropperCpu0 = dropper?.Cpu ?? TimeSpan.Zero;
            long start = Stopwatch.GetTimestamp();
            clock.Phase = RunPhase.Measure;
            if (dropper is not null)
            {
                dropper.Sampling = true;
            }

            double inFlight = SampleInFlight(device, start, options.RuntimeSeconds);

            long end = Stopwatch.GetTimestamp();
            TimeSpan cpu1 = CpuClock.Process(), dropperCpu1 = dropper?.Cpu ?? TimeSpan.Zero;
            Counters c1 = Counters.Of(workers);
            double load1 = MachineLoad.OneMinute();
            string flags = OpenFlags.Describe(directory);
            double residentEnd = options.Cache == "warm" ? PageCache.ResidentFraction(Directory.EnumerateFiles(directory)) : 0;
            int poolThreads = ThreadPool.ThreadCount;
            clock.Phase = RunPhase.Stop;
            foreach (YcsbWorker worker in workers)
            {
                worker.Join();
            }
            Exception? failure = workers.Select(w => w.Failure).FirstOrDefault(f => f is not null);
            if (failure is not null)
            {
                throw new InvalidOperationException("a YCSB worker failed", failure);
            }

            double seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            Counters d = c1 - c0;
            double cpu = (cpu1 - cpu0 - (dropperCpu1 - dropperCpu0)).TotalSeconds;
            LatencyStats latency = LatencyStats.Merge(workers.Select(w => w.Latency));
            report = new Report()
                .Add("mode", "kv")
                .Add("device", options.Device)
                .Add("device_type", deviceType)
                .Add("engine", engine)
                .Add("direct", options.IsFileAio && options.Direct ? 1 : 0)
                .Add("inline_reads", options.IsFileAio && options.InlineReads ? 1 : 0)
                .Add("cache", options.Cache)
                .Add("store_fds", flags)
                .Add("keys", options.Keys)
                .Add("store_bytes", storeBytes)
                .Add("memory_bytes", 1L << options.MemoryBits)
                .Add("threads", options.Threads)
                .Add("depth", options.Depth)
                .Add("read_percent", options.ReadPercent)
                .Add("load_s", loadSeconds)
                .Add("runtime_s", seconds)
                .Add("ops", d.Ops)
                .Add("ops_per_s", d.Ops / seconds, 1)
                .Add("reads", d.Reads)
                .Add("disk_reads", d.DiskReads)
                .Add("upserts", d.Upserts)
                .Add("errors", d.Errors)
                .Add("p50_us", latency.Microseconds(50), 1)
                .Add("p99_us", latency.Microseconds(99), 1)
                .Add("p999_us", latency.Microseconds(99.9), 1)
                .Add("max_us", latency.MaxMicroseconds, 1)
                .Add("cpu_s", cpu)
                .Add("cpu_us_per_op", d.Ops == 0 ? 0 : cpu * 1e6 / d.Ops)
                .Add("device_inflight_mean", inFlight, 1)
                .Add("threadpool_threads", poolThreads)
                .Add("load1_start", load0, 2)
                .Add("load1_end", load1, 2);
            if (dropper is not null)
            {
                (double mean, double max, int samples) = dropper.Residency;
                report.Add("dropper_cpu_s", (dropperCpu1 - dropperCpu0).TotalSeconds)
                    .Add("dropper_drops", dropper.Drops)
                    .Add("resident_mean", mean, 5)
                    .Add("resident_max", max, 5)
                    .Add("resident_samples", samples);
            }
            if (options.Cache == "warm")
            {
                report.Add("resident_start", residentStart, 5).Add("resident_end", residentEnd, 5);
            }
        }
        finally
        {
            clock.Phase = RunPhase.Stop;
            foreach (YcsbWorker worker in workers)
            {
                worker.Join();
            }
            dropper?.Dispose();
        }
        return report;
    }

    /// <summary>Upserts every key once, in order, from one session; returns the seconds it took.</summary>
    private static double Load(FasterKV<long, Record> store, long keys)
    {
        long start = Stopwatch.GetTimestamp();
        using var session = store.For(new SimpleFunctions<long, Record, Empty>()).NewSession<SimpleFunctions<long, Record, Empty>>();
        Record value = default;
        for (long key = 0; key < keys; key++)
        {
            value.Key = key;
            session.Upsert(ref key, ref value);
        }
        // The pages the load pushed out of memory may still be on their way to the device: the warm-up covers that.
        session.CompletePending(wait: true);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Sleeps through the measured phase, waking every 10 ms to read how many I/Os the device has in flight
    /// (FileAioDevice counts them from issue to the end of FASTER's callback); returns the mean, or -1 for a device that
    /// does not say. The managed device's runs wake the same way, so both pay the same for the sampling.</summary>
    private static double SampleInFlight(IDevice device, long start, double seconds)
    {
        long end = start + (long)(seconds * Stopwatch.Frequency);
        long sum = 0, samples = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            Thread.Sleep(10);
            if (device is FileAioDevice fileAio)
            {
                sum += fileAio.InFlight;
                samples++;
            }
        }
        return samples == 0 ? -1 : (double)sum / samples;
    }

    /// <summary>The workers' counters added up, read at one edge of the measured phase.</summary>
    private readonly record struct Counters(long Ops, long Reads, long DiskReads, long Upserts, long Errors)
    {
        public static Counters Of(YcsbWorker[] workers)
        {
            var sum = default(Counters);
            foreach (YcsbWorker w in workers)
            {
                sum += new Counters(Volatile.Read(ref w.Ops), Volatile.Read(ref w.Reads), Volatile.Read(ref w.DiskReads),
                    Volatile.Read(ref w.Upserts), Volatile.Read(ref w.Errors));
            }
            return sum;
        }

        public static Counters operator +(Counters a, Counters b) =>
            new(a.Ops + b.Ops, a.Reads + b.Reads, a.DiskReads + b.DiskReads, a.Upserts + b.Upserts, a.Errors + b.Errors);

        public static Counters operator -(Counters a, Counters b) =>
            new(a.Ops - b.Ops, a.Reads - b.Reads, a.DiskReads - b.DiskReads, a.Upserts - b.Upserts, a.Errors - b.Errors);
    }
}
