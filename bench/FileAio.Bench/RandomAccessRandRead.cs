using FileAio.Cli.Bench;
using System.Diagnostics;
using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Bench;

/// <summary>
/// <c>iodepth</c> concurrent async loops, each awaiting a read into its own aligned buffer, through one of two APIs:
/// <list type="bullet">
/// <item><c>randomaccess</c>: the baseline FileAio is meant to beat, what .NET offers today —
/// <see cref="RandomAccess.ReadAsync(SafeFileHandle, Memory{byte}, long, CancellationToken)"/>. On Linux each read is a
/// blocking <c>pread</c> on a thread-pool thread, so "32 in flight" is really as many as the pool has threads running them.</item>
/// <item><c>file</c>: FileAio's async layer, <see cref="AioFile.ReadAsync(Memory{byte}, long, CancellationToken)"/>.</item>
/// </list>
/// </summary>
internal sealed class RandomAccessRandRead
{
    private readonly Options _options;
    private readonly bool _aioFile;
    private AioFile? _file;
    private volatile bool _stop;

    public RandomAccessRandRead(Options options, bool aioFile = false)
    {
        _options = options;
        _aioFile = aioFile;
    }

    /// <summary>One loop's counters: each has a single writer (its loop), read by the main thread at the phase edges.</summary>
    private sealed class Counters
    {
        public long Ops;
        public long Errors;
    }

    public Measurement Run()
    {
        // For --direct 1, FileAio's OpenHandle sets O_DIRECT with fcntl; .NET's own File.OpenHandle cannot.
        using SafeFileHandle file = AioFile.OpenHandle(_options.File!, FileMode.Open, FileAccess.Read, _options.Direct);
        using AioFile? aioFile = _aioFile
            ? AioFile.Open(_options.File!, FileMode.Open, FileAccess.Read, new AioFileOptions { Direct = _options.Direct, Engine = _options.Engine })
            : null;
        _file = aioFile;
        var buffers = new AlignedBuffer[_options.IoDepth];
        var counters = new Counters[_options.IoDepth];
        var loops = new Task[_options.IoDepth];
        for (int i = 0; i < loops.Length; i++)
        {
            buffers[i] = new AlignedBuffer(_options.BlockSize);
            counters[i] = new Counters();
            (AlignedBuffer buffer, Counters mine, ulong seed) = (buffers[i], counters[i], 0x5EEDUL + (ulong)i);
            loops[i] = Task.Run(() => ReadLoop(file, buffer, mine, seed));
        }

        Thread.Sleep(TimeSpan.FromSeconds(_options.WarmupSeconds));
        (long ops0, long errors0) = Sum(counters);
        TimeSpan cpu0 = ProcessCpu.Now();
        // The reads and their continuations run on pool threads, so count allocations process-wide.
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();

        Thread.Sleep(TimeSpan.FromSeconds(_options.RuntimeSeconds));

        long end = Stopwatch.GetTimestamp();
        (long ops1, long errors1) = Sum(counters);
        long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu1 = ProcessCpu.Now();

        _stop = true;
        Task.WaitAll(loops);
        foreach (AlignedBuffer buffer in buffers)
        {
            buffer.Dispose();
        }
        return new Measurement(
            _aioFile ? "file" : "randomaccess", _options.Direct, _options.BlockSize, _options.IoDepth,
            Stopwatch.GetElapsedTime(start, end).TotalSeconds, ops1 - ops0, errors1 - errors0, (cpu1 - cpu0).TotalSeconds,
            alloc1 - alloc0, "process");
    }

    private async Task ReadLoop(SafeFileHandle file, AlignedBuffer buffer, Counters counters, ulong seed)
    {
        var random = new XorShift(seed);
        Memory<byte> memory = buffer.Memory;
        while (!_stop)
        {
            long offset = random.NextOffset(_options.Size, _options.BlockSize);
            int read = _file is null
                ? await RandomAccess.ReadAsync(file, memory, offset).ConfigureAwait(false)
                : await _file.ReadAsync(memory, offset).ConfigureAwait(false);
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
