using System.Diagnostics;
using HdrHistogram;

namespace FileAio.Cli.Bench;

/// <summary>
/// Runs one case: builds its workload (file open, buffers and requests allocated before anything is timed), starts
/// the loops in the warm-up phase, then measures a phase of <see cref="BenchSettings.RuntimeSeconds"/> — wall time,
/// the process's CPU time, allocations — and stops the loops, which drain what they have in flight.
/// </summary>
/// <remarks>
/// The runner's own thread only sleeps while the loops run. Nothing is drawn on the terminal during the measured
/// phase (a live progress bar allocates and burns CPU, which would be counted against the case).
/// </remarks>
internal static class BenchRunner
{
    public static BenchResult Run(BenchCase benchCase, BenchSettings settings, int round, IBenchProgress progress, CancellationToken cancellationToken)
    {
        using IBenchWorkload workload = Create(benchCase, settings);
        var phase = new BenchPhase();
        double seconds;
        TimeSpan cpu;
        long processAllocated;
        workload.Start(phase);
        try
        {
            progress.WarmingUp(workload.EngineName);
            Sleep(settings.WarmupSeconds, progress, cancellationToken);

            TimeSpan cpu0 = ProcessCpu();
            long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            progress.Measuring();
            long start = Stopwatch.GetTimestamp();
            phase.Set(BenchPhase.Measure);

            Sleep(settings.RuntimeSeconds, null, cancellationToken);

            long end = Stopwatch.GetTimestamp();
            phase.Set(BenchPhase.Stop);
            long allocated1 = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan cpu1 = ProcessCpu();
            seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            cpu = cpu1 - cpu0;
            processAllocated = allocated1 - allocated0;
        }
        finally
        {
            phase.Set(BenchPhase.Stop);
            workload.Join();
        }

        IReadOnlyList<WorkerStats> stats = workload.Stats;
        var latency = new LongHistogram(stats[0].Latency.HighestTrackableValue, 3);
        long ops = 0, bytes = 0, errors = 0, threadAllocated = 0;
        bool threadScoped = true;
        string? firstError = null;
        foreach (WorkerStats s in stats)
        {
            ops += s.Ops;
            bytes += s.Bytes;
            errors += s.Errors;
            latency.Add(s.Latency);
            firstError ??= s.FirstError;
            threadScoped &= s.ThreadAllocatedBytes >= 0;
            threadAllocated += s.ThreadAllocatedBytes;
        }
        return new BenchResult(
            benchCase, workload.EngineName, round, seconds, ops, bytes, errors, cpu.TotalSeconds,
            threadScoped ? threadAllocated : processAllocated, threadScoped ? "thread" : "process",
            LatencySummary.From(latency), firstError);
    }

    private static IBenchWorkload Create(BenchCase benchCase, BenchSettings settings)
    {
        if (!BenchNames.Runs(benchCase.Api, benchCase.Rw))
        {
            throw new ArgumentOutOfRangeException(nameof(benchCase), benchCase, "the command refuses this combination before any case runs");
        }
        return (benchCase.Api, benchCase.Rw) switch
        {
            (BenchApi.File or BenchApi.FileInline or BenchApi.Loop, ReadWriteMode.Wal) => FileWalWorkload.Create(benchCase, settings),
            (BenchApi.FileStream, _) => new FileStreamWalWorkload(benchCase, settings),
            (BenchApi.Context, _) => new ContextWorkload(benchCase, settings),
            (BenchApi.RandomAccess, _) => RandomAccessWorkload.Create(benchCase, settings),
            (BenchApi.Sync, _) => new SyncWorkload(benchCase, settings),
            (BenchApi.File or BenchApi.FileInline, _) => FileApiWorkload.Create(benchCase, settings),
            (BenchApi.Loop, _) => LoopWorkload.Create(benchCase, settings),
            _ => throw new ArgumentOutOfRangeException(nameof(benchCase), benchCase.Api, "unknown api"),
        };
    }

    /// <summary>Sleeps <paramref name="seconds"/>, waking every quarter second to let <paramref name="progress"/>
    /// redraw when one is given; throws when cancelled.</summary>
    private static void Sleep(double seconds, IBenchProgress? progress, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        while (true)
        {
            long left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return;
            }
            TimeSpan slice = TimeSpan.FromSeconds(Math.Min((double)left / Stopwatch.Frequency, progress is null ? 3600 : 0.25));
            if (cancellationToken.WaitHandle.WaitOne(slice))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            progress?.Tick();
        }
    }

    /// <summary>CPU time of the whole process (every thread). Reading it allocates, so it is never read inside the
    /// measured phase.</summary>
    private static TimeSpan ProcessCpu()
    {
        using Process self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
