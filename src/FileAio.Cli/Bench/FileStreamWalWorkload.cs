using System.Diagnostics;
using FileAio.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary>
/// <see cref="BenchApi.FileStream"/>: the write-ahead log as a careful .NET program writes it today. One
/// <see cref="FileStream"/> over the log (unbuffered, <c>bufferSize: 0</c>, so each <c>Write</c> is one <c>pwrite</c>);
/// <c>iodepth</c> appender threads, each taking the next block, then <c>Position</c> + <c>Write</c> under one lock
/// (FileStream is not thread-safe, and its position is shared state), then <see cref="FileStream.Flush(bool)"/> with
/// <c>true</c> outside the lock, so that the kernel sees the appenders' fsyncs at once and can serve several with one
/// journal commit and one device flush.
/// </summary>
/// <remarks>
/// <para>Flush(true) outside the lock is safe here because the stream is unbuffered: it touches no buffer and no
/// position, only fsyncs the handle. With a buffered stream it would have to go under the lock, one fsync at a time.</para>
/// <para>.NET has no fdatasync: Flush(true) is <c>fsync</c>, which also writes the inode (the mtime the write changed).
/// That is what .NET offers; <c>--rw wal</c> through <c>file</c> asks for fdatasync, as fio's <c>--fdatasync=1</c>.</para>
/// <para>Blocking calls on dedicated threads rather than thread-pool tasks: Write and Flush(true) block, and a pool
/// running 16 blocking loops would be measuring its own thread injection. Each thread counts its own allocations.</para>
/// </remarks>
internal sealed class FileStreamWalWorkload : IBenchWorkload
{
    private readonly FileStream _stream;
    private readonly Lock _appendLock = new();
    private readonly int _blockSize;
    private readonly SequentialCursor _log;
    private readonly Appender[] _appenders;
    private BenchPhase? _phase;

    private sealed class Appender(AlignedBuffer buffer)
    {
        public AlignedBuffer Buffer { get; } = buffer;
        public WorkerStats Stats { get; } = new();
        public Thread? Thread;
        public Exception? Failure;
    }

    public FileStreamWalWorkload(BenchCase benchCase, BenchSettings settings)
    {
        // The handle from FileAio's OpenHandle: the same O_DIRECT (fcntl) as the other apis when --direct.
        SafeFileHandle handle = BenchFileHandles.Open(settings.FilePath, benchCase);
        try
        {
            _stream = new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        _blockSize = benchCase.BlockSize;
        _log = new SequentialCursor(0, settings.FileSize, _blockSize);
        int alignment = BenchFileHandles.BufferAlignment(AioFile.GetAlignment(handle));
        _appenders = new Appender[benchCase.IoDepth];
        for (int i = 0; i < _appenders.Length; i++)
        {
            var buffer = new AlignedBuffer(_blockSize, alignment);
            BenchData.FillBlock(buffer.GetSpan(), 0x10A1UL + (ulong)i);
            _appenders[i] = new Appender(buffer);
        }
    }

    public string EngineName => "none";

    public IReadOnlyList<WorkerStats> Stats => [.. _appenders.Select(a => a.Stats)];

    public void Start(BenchPhase phase)
    {
        _phase = phase;
        using (ExecutionContext.SuppressFlow())
        {
            for (int i = 0; i < _appenders.Length; i++)
            {
                Appender appender = _appenders[i];
                appender.Thread = new Thread(() => Run(appender)) { Name = $"fileaio bench filestream appender {i}", IsBackground = true };
                appender.Thread.Start();
            }
        }
    }

    public void Join()
    {
        foreach (Appender appender in _appenders)
        {
            appender.Thread?.Join();
        }
        foreach (Appender appender in _appenders)
        {
            if (appender.Failure is not null)
            {
                throw new IOException($"filestream appender failed: {appender.Failure.Message}", appender.Failure);
            }
        }
    }

    private void Run(Appender appender)
    {
        try
        {
            Append(appender);
        }
        catch (Exception e)
        {
            appender.Failure = e;
        }
    }

    private void Append(Appender appender)
    {
        BenchPhase phase = _phase!;
        ReadOnlySpan<byte> block = appender.Buffer.GetSpan();
        var edges = new ThreadPhaseEdges();
        while (edges.Continue(phase, appender.Stats))
        {
            long start = Stopwatch.GetTimestamp();
            long committed;
            try
            {
                lock (_appendLock)
                {
                    _stream.Position = _log.Next();
                    _stream.Write(block);
                }
                _stream.Flush(flushToDisk: true);
                committed = _blockSize;
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
        _stream.Dispose();
        foreach (Appender appender in _appenders)
        {
            appender.Buffer.Dispose();
        }
    }
}
