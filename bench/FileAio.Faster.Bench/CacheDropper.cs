using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Faster.Bench;

/// <summary>
/// Keeps the page cache from holding the store: a background thread drops every store file's cached pages
/// (<see cref="PageCache.Drop"/>) every few milliseconds while the workload runs, for whichever device runs it.
/// </summary>
/// <remarks>
/// <para>Why this and not a store larger than RAM: this 24 GiB machine cannot build such a store in a benchmark's
/// time, and a locked ballast that leaves little RAM would squeeze the other programs that share it. Dropping only
/// the store's files keeps the cache cold for the store and leaves everything else alone.</para>
/// <para>How cold: a read that comes through the cache adds a page, which stays until the next drop. At tens of
/// thousands of uniform reads a second over a 1 GiB store, a few milliseconds of pages are a few hundred KiB, so a read
/// finds its page cached about as often as that fraction of the store. The thread measures the residency itself just
/// before a drop (the most there ever is), once a second while <see cref="Sampling"/>, and reports it.</para>
/// <para>Its CPU time is the benchmark's, not a device's: the thread reads its own CPU clock, and the run subtracts it
/// from the process's CPU time and reports it apart.</para>
/// </remarks>
internal sealed class CacheDropper : IDisposable
{
    private static readonly TimeSpan s_rescanEvery = TimeSpan.FromMilliseconds(200); // new segment files appear as the log grows
    private static readonly TimeSpan s_sampleEvery = TimeSpan.FromSeconds(1);

    private readonly string _directory;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly Dictionary<string, SafeFileHandle> _files = new(StringComparer.Ordinal);
    private readonly ManualResetEventSlim _started = new();
    private volatile bool _stop;
    private volatile bool _sampling;
    private int _cpuClock;

    // Written by the dropper thread, read after Dispose (Join orders them).
    private long _drops;
    private double _residentSum;
    private double _residentMax;
    private int _samples;
    private Exception? _failure;

    public CacheDropper(string directory, TimeSpan interval)
    {
        _directory = directory;
        _interval = interval;
        _thread = new Thread(Run) { IsBackground = true, Name = "cache dropper" };
        _thread.Start();
        _started.Wait();
    }

    /// <summary>While true, the thread samples the store's residency once a second (the measured phase).</summary>
    public bool Sampling { get => _sampling; set => _sampling = value; }

    /// <summary>CPU time the dropper thread has used so far.</summary>
    public TimeSpan Cpu => CpuClock.Thread(_cpuClock);

    public long Drops => _drops;

    /// <summary>Mean and highest fraction of the store resident just before a drop, over the samples taken.</summary>
    public (double Mean, double Max, int Samples) Residency => (_samples == 0 ? 0 : _residentSum / _samples, _residentMax, _samples);

    private void Run()
    {
        _cpuClock = CpuClock.OfThread(Libc.PthreadSelf());
        _started.Set();
        long nextScan = 0, nextSample = 0;
        try
        {
            while (!_stop)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= nextScan)
                {
                    Rescan();
                    nextScan = now + (long)(s_rescanEvery.TotalSeconds * Stopwatch.Frequency);
                }
                if (_sampling && now >= nextSample)
                {
                    Sample();
                    nextSample = now + (long)(s_sampleEvery.TotalSeconds * Stopwatch.Frequency);
                }
                foreach (SafeFileHandle file in _files.Values)
                {
                    PageCache.Drop(file);
                }
                _drops++;
                Thread.Sleep(_interval);
            }
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            _failure = e; // reported by Dispose: a run whose cache was not kept cold must not pass for one that was
        }
    }

    private void Rescan()
    {
        foreach (string path in Directory.EnumerateFiles(_directory))
        {
            if (!_files.ContainsKey(path))
            {
                _files[path] = PageCache.Open(path);
            }
        }
    }

    private void Sample()
    {
        long resident = 0, length = 0;
        foreach (SafeFileHandle file in _files.Values)
        {
            (long r, long l) = PageCache.Residency(file);
            resident += r;
            length += l;
        }
        double fraction = length == 0 ? 0 : (double)resident / length;
        _residentSum += fraction;
        _residentMax = Math.Max(_residentMax, fraction);
        _samples++;
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        foreach (SafeFileHandle file in _files.Values)
        {
            file.Dispose();
        }
        _started.Dispose();
        if (_failure is not null)
        {
            throw new InvalidOperationException("the cache dropper failed; the store's cache was not kept cold", _failure);
        }
    }
}
