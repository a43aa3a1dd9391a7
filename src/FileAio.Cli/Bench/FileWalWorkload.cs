using System.Diagnostics;
using System.Runtime.ExceptionServices;
using FileAio.Buffers;

namespace FileAio.Cli.Bench;

/// <summary>
/// <see cref="ReadWriteMode.Wal"/> through <see cref="AioFile"/>: <c>iodepth</c> concurrent async appenders on one file,
/// each taking the next block of the log (one shared <see cref="SequentialCursor"/> over the whole file, wrapping at its
/// end as fio does over its laid-out file), writing it with <see cref="AioFile.WriteAsync(ReadOnlyMemory{byte}, long, CancellationToken)"/>
/// and then awaiting <see cref="AioFile.FlushAsync"/> with <c>dataOnly: true</c> (fdatasync). One commit = that write
/// and that flush; its latency runs from the write's start to the flush's end. With <c>--wal-flush with-write</c> the
/// flush is begun right after the write and both are awaited: FlushAsync waits for the file's writes begun before it,
/// so the commit is as durable, without a round trip through the appender between the two (what an io_uring link of
/// write and fdatasync would give).
/// </summary>
/// <remarks>The appenders hop between thread-pool threads, so allocations are counted for the whole process, as for
/// the other async loops. Each appender writes only its own <see cref="WorkerStats"/>; the runner reads them after
/// <see cref="Join"/>.</remarks>
internal sealed class FileWalWorkload : IBenchWorkload
{
    private readonly AioFile _file;
    private readonly AioLoop? _loop;   // --api loop: the appenders run on this engine thread, the file bound to it
    private readonly int _blockSize;
    private readonly SequentialCursor _log;
    private readonly bool _flushWithWrite;
    private readonly Appender[] _appenders;
    private Task[] _tasks = [];
    private BenchPhase? _phase;

    private sealed class Appender(AlignedBuffer buffer)
    {
        public AlignedBuffer Buffer { get; } = buffer;
        public WorkerStats Stats { get; } = new();
    }

    private FileWalWorkload(BenchCase benchCase, BenchSettings settings, AioFile file, AioLoop? loop)
    {
        _file = file;
        _loop = loop;
        _blockSize = benchCase.BlockSize;
        _log = new SequentialCursor(0, settings.FileSize, _blockSize);
        _flushWithWrite = settings.WalFlushWithWrite;
        int alignment = BenchFileHandles.BufferAlignment(AioFile.GetAlignment(file.Handle));
        _appenders = new Appender[benchCase.IoDepth];
        for (int i = 0; i < _appenders.Length; i++)
        {
            var buffer = new AlignedBuffer(_blockSize, alignment);
            BenchData.FillBlock(buffer.GetSpan(), 0x10A1UL + (ulong)i);
            _appenders[i] = new Appender(buffer);
        }
    }

    /// <summary>The workload for <paramref name="benchCase"/>'s api: <c>file</c> (appenders on the thread pool),
    /// <c>file-inline</c> (the same, the file with <see cref="AioFileOptions.InlineCompletions"/>) or <c>loop</c> (every
    /// appender on one engine thread of a host of its own, the file opened there).</summary>
    public static FileWalWorkload Create(BenchCase benchCase, BenchSettings settings)
    {
        AioFile file;
        AioEngineHost? host = null;
        try
        {
            if (benchCase.Api == BenchApi.Loop)
            {
                host = AioEngineHost.Create(benchCase.Engine, threads: 1);
                AioLoop loop = host.Loops[0];
                var onLoop = new AioFileOptions { Direct = benchCase.Direct, Host = host };
                file = loop.RunAsync(() => Task.FromResult(AioFile.Open(settings.FilePath, FileMode.Open, FileAccess.ReadWrite, onLoop)))
                    .GetAwaiter().GetResult();
            }
            else
            {
                file = AioFile.Open(settings.FilePath, FileMode.Open, FileAccess.ReadWrite, new AioFileOptions
                {
                    Direct = benchCase.Direct, Engine = benchCase.Engine, InlineCompletions = benchCase.Api == BenchApi.FileInline,
                });
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            host?.Dispose();
            throw IoFailureException.FromException(benchCase.Direct ? "open (O_DIRECT)" : "open", settings.FilePath, e);
        }
        catch (NotSupportedException e)
        {
            host?.Dispose();
            throw new UsageException(e.Message, e);
        }
        try
        {
            return new FileWalWorkload(benchCase, settings, file, host?.Loops[0]);
        }
        catch
        {
            file.Dispose();
            host?.Dispose();
            throw;
        }
    }

    public string EngineName => EngineNames.Name(_file.Engine);

    public IReadOnlyList<WorkerStats> Stats => [.. _appenders.Select(a => a.Stats)];

    public void Start(BenchPhase phase)
    {
        _phase = phase;
        _tasks = _loop is { } loop
            ? [.. _appenders.Select(appender => loop.RunAsync(() => AppendAsync(appender)))]
            : [.. _appenders.Select(appender => Task.Run(() => AppendAsync(appender)))];
    }

    public void Join()
    {
        try
        {
            Task.WaitAll(_tasks);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            throw new IOException($"{EngineName} appender failed: {e.InnerExceptions[0].Message}", e.InnerExceptions[0]);
        }
    }

    private async Task AppendAsync(Appender appender)
    {
        BenchPhase phase = _phase!;
        ReadOnlyMemory<byte> block = appender.Buffer.Memory;
        int seen = BenchPhase.Warmup;
        while (true)
        {
            int now = phase.Value;
            if (now == BenchPhase.Stop)
            {
                return;
            }
            if (now != seen)
            {
                appender.Stats.Reset(); // the warm-up ran every path; count from here
                seen = now;
            }
            long offset = _log.Next();
            long start = Stopwatch.GetTimestamp();
            long committed;
            try
            {
                // Awaited here, in the appender's one long-running method, not in a helper: an async helper returning
                // a ValueTask would allocate its state machine on every commit that does not complete at once.
                int written;
                if (_flushWithWrite)
                {
                    ValueTask<int> writing = _file.WriteAsync(block, offset);
                    ValueTask flushing = _file.FlushAsync(dataOnly: true); // held by its barrier until the write completes
                    // Each awaited exactly once, whatever the other did; a failed write's error is the commit's (the
                    // flush's, if it fails too, most likely repeats it).
                    Exception? writeFailure = null;
                    written = 0;
                    try
                    {
                        written = await writing;
                    }
                    catch (Exception e)
                    {
                        writeFailure = e;
                    }
                    try
                    {
                        await flushing;
                    }
                    catch (Exception) when (writeFailure is not null)
                    {
                    }
                    if (writeFailure is not null)
                    {
                        ExceptionDispatchInfo.Throw(writeFailure);
                    }
                }
                else
                {
                    written = await _file.WriteAsync(block, offset);
                    if (written == _blockSize)
                    {
                        await _file.FlushAsync(dataOnly: true);
                    }
                }
                committed = written;
                if (written != _blockSize)
                {
                    // Counted as an error below: a short write commits nothing whole.
                    appender.Stats.NoteError($"short write: {written} of {_blockSize} bytes");
                }
            }
            catch (IOException e)
            {
                committed = -1;
                appender.Stats.NoteError(ErrnoText.Describe(e));
            }
            appender.Stats.Record(start, Stopwatch.GetTimestamp(), committed, _blockSize);
        }
    }

    public void Dispose()
    {
        _file.Dispose(); // every appender has ended (Join), so nothing is in flight; from this thread, not the loop's
        foreach (Appender appender in _appenders)
        {
            appender.Buffer.Dispose();
        }
        _loop?.Host.Dispose();
    }
}
