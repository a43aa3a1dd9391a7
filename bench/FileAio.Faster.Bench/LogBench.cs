using System.Diagnostics;
using FASTER.core;

namespace FileAio.Faster.Bench;

/// <summary>
/// Case 3 of issue 14: FasterLog, one appender enqueuing <c>entry</c>-byte entries as fast as the log takes them and a
/// committer committing every <c>commit-ms</c> ms, on one device, in a fresh directory.
/// </summary>
/// <remarks>
/// <para>The appender awaits <c>EnqueueAsync</c>, which completes at once while the log's memory has room and otherwise
/// waits for a page flush to free some (FasterLog's <c>Enqueue</c> would spin on <c>Thread.Yield</c> instead, burning
/// one of the two cores the device needs). So once memory fills, appends run at the rate the device writes pages.</para>
/// <para>Latencies: of each append (its <c>EnqueueAsync</c>, mostly a memory copy, sometimes a wait for a flush), and of
/// each commit (<c>CommitAsync</c>: the log's tail and the commit record on the device).</para>
/// </remarks>
internal static class LogBench
{
    public static Report Run(BenchOptions options)
    {
        string directory = Path.Combine(options.Directory!, $"log-{options.Device}-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            return RunIn(options, directory).GetAwaiter().GetResult();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<Report> RunIn(BenchOptions options, string directory)
    {
        using IDevice device = BenchDevice.CreateLog(options, Path.Combine(directory, "log", "log.log"));
        (string deviceType, string engine) = BenchDevice.Describe(options, device, directory);
        using ILogCommitManager commits = BenchDevice.CreateCommitManager(options, Path.Combine(directory, "commits"));
        using var log = new FasterLog(new FasterLogSettings
        {
            LogDevice = device,
            LogCommitManager = commits,
            PageSizeBits = options.PageBits,
            MemorySizeBits = options.MemoryBits,
            SegmentSizeBits = options.SegmentBits,
        });

        var clock = new RunClock();
        var appender = new Appender(log, clock, options.EntryBytes);
        var committer = new Committer(log, clock, TimeSpan.FromMilliseconds(options.CommitMilliseconds));
        Task appending = Task.Run(appender.RunAsync);
        Task committing = Task.Run(committer.RunAsync);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds));
            double load0 = MachineLoad.OneMinute();
            long appends0 = Volatile.Read(ref appender.Appends), commits0 = Volatile.Read(ref committer.Commits);
            long committed0 = log.CommittedUntilAddress;
            TimeSpan cpu0 = CpuClock.Process();
            long start = Stopwatch.GetTimestamp();
            clock.Phase = RunPhase.Measure;

            await Task.Delay(TimeSpan.FromSeconds(options.RuntimeSeconds));

            long end = Stopwatch.GetTimestamp();
            TimeSpan cpu1 = CpuClock.Process();
            long appends = Volatile.Read(ref appender.Appends) - appends0, commitCount = Volatile.Read(ref committer.Commits) - commits0;
            long committedBytes = log.CommittedUntilAddress - committed0;
            double load1 = MachineLoad.OneMinute();
            string flags = OpenFlags.Describe(directory);
            int poolThreads = ThreadPool.ThreadCount;
            clock.Phase = RunPhase.Stop;
            await Task.WhenAll(appending, committing);

            double seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            double cpu = (cpu1 - cpu0).TotalSeconds;
            return new Report()
                .Add("mode", "log")
                .Add("device", options.Device)
                .Add("device_type", deviceType)
                .Add("engine", engine)
                .Add("direct", options.IsFileAio && options.Direct ? 1 : 0)
                .Add("inline_reads", options.IsFileAio && options.InlineReads ? 1 : 0)
                .Add("store_fds", flags)
                .Add("entry_bytes", options.EntryBytes)
                .Add("commit_ms", options.CommitMilliseconds)
                .Add("memory_bytes", 1L << options.MemoryBits)
                .Add("runtime_s", seconds)
                .Add("ops", appends)
                .Add("ops_per_s", appends / seconds, 1)
                .Add("committed_mb_per_s", committedBytes / seconds / 1e6, 1)
                .Add("errors", 0L) // a failed commit throws out of the committer and fails the run
                .Add("p50_us", appender.Latency.Microseconds(50), 1)
                .Add("p99_us", appender.Latency.Microseconds(99), 1)
                .Add("p999_us", appender.Latency.Microseconds(99.9), 1)
                .Add("max_us", appender.Latency.MaxMicroseconds, 1)
                .Add("commits", commitCount)
                .Add("commit_p50_us", committer.Latency.Microseconds(50), 1)
                .Add("commit_p99_us", committer.Latency.Microseconds(99), 1)
                .Add("cpu_s", cpu)
                .Add("cpu_us_per_op", appends == 0 ? 0 : cpu * 1e6 / appends)
                .Add("threadpool_threads", poolThreads)
                .Add("load1_start", load0, 2)
                .Add("load1_end", load1, 2);
        }
        finally
        {
            clock.Phase = RunPhase.Stop;
            await Task.WhenAll(appending, committing); // a failure of either surfaces here
        }
    }

    /// <summary>Enqueues entries back to back. One writer for its counters (its loop); read by the main thread.</summary>
    private sealed class Appender(FasterLog log, RunClock clock, int entryBytes)
    {
        public long Appends;

        public LatencyStats Latency { get; private set; } = new();

        public async Task RunAsync()
        {
            byte[] entry = new byte[entryBytes];
            for (int i = 0; i < entry.Length; i++)
            {
                entry[i] = (byte)(i | 1); // non-zero: nothing below may treat the page as a hole
            }
            bool measuring = false;
            RunPhase phase;
            while ((phase = clock.Phase) != RunPhase.Stop)
            {
                if (phase == RunPhase.Measure && !measuring)
                {
                    measuring = true;
                    Latency = new LatencyStats();
                }
                long start = Stopwatch.GetTimestamp();
                ValueTask<long> enqueue = log.EnqueueAsync(entry);
                if (!enqueue.IsCompletedSuccessfully)
                {
                    await enqueue;
                }
                Latency.Record(start, Stopwatch.GetTimestamp());
                Volatile.Write(ref Appends, Appends + 1);
            }
        }
    }

    /// <summary>Commits on a fixed period (the next commit starts one period after the last started, or at once when
    /// the last took longer), each awaited, so commits never pile up behind a slow device.</summary>
    private sealed class Committer(FasterLog log, RunClock clock, TimeSpan period)
    {
        public long Commits;

        public LatencyStats Latency { get; private set; } = new();

        public async Task RunAsync()
        {
            bool measuring = false;
            long next = Stopwatch.GetTimestamp();
            long periodTicks = (long)(period.TotalSeconds * Stopwatch.Frequency);
            RunPhase phase;
            while ((phase = clock.Phase) != RunPhase.Stop)
            {
                if (phase == RunPhase.Measure && !measuring)
                {
                    measuring = true;
                    Latency = new LatencyStats();
                }
                next += periodTicks;
                long wait = next - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                }
                else
                {
                    next = Stopwatch.GetTimestamp();
                }
                long start = Stopwatch.GetTimestamp();
                await log.CommitAsync();
                Latency.Record(start, Stopwatch.GetTimestamp());
                Volatile.Write(ref Commits, Commits + 1);
            }
        }
    }
}
