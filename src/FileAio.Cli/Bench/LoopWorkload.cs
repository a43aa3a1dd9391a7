namespace FileAio.Cli.Bench;

/// <summary>
/// <see cref="BenchApi.Loop"/>: the thread-per-core mode (<see cref="AioLoop"/>). One engine host with one engine thread
/// per job; job <c>j</c> runs on loop <c>j</c>: its file is opened there (so it is bound to that loop) and its
/// <c>iodepth</c> async loops are started there with <see cref="AioLoop.RunAsync(Func{Task}, CancellationToken)"/>, so
/// each operation goes straight into that thread's engine and its continuation resumes inline on it — no thread pool,
/// no cross-thread queue.
/// </summary>
internal sealed class LoopWorkload : AsyncLoopWorkload
{
    private readonly AioEngineHost _host;
    private readonly AioFile[] _files; // one per job, bound to the job's loop

    private LoopWorkload(BenchCase benchCase, BenchSettings settings, AioEngineHost host, AioFile[] files)
        : base(benchCase, settings, BenchFileHandles.BufferAlignment(AioFile.GetAlignment(files[0].Handle)))
    {
        _host = host;
        _files = files;
    }

    public static LoopWorkload Create(BenchCase benchCase, BenchSettings settings)
    {
        AioEngineHost host;
        try
        {
            host = AioEngineHost.Create(benchCase.Engine, threads: benchCase.Jobs);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException(e.Message, e);
        }
        var files = new AioFile[benchCase.Jobs];
        try
        {
            for (int j = 0; j < files.Length; j++)
            {
                files[j] = OpenOn(host.Loops[j], benchCase, settings.FilePath);
            }
            return new LoopWorkload(benchCase, settings, host, files);
        }
        catch
        {
            DisposeAll(files, host);
            throw;
        }
    }

    /// <summary>Opens the data file on <paramref name="loop"/>'s thread, which binds it to that loop.</summary>
    private static AioFile OpenOn(AioLoop loop, BenchCase benchCase, string path)
    {
        FileAccess access = BenchNames.Writes(benchCase.Rw) ? FileAccess.ReadWrite : FileAccess.Read;
        var options = new AioFileOptions { Direct = benchCase.Direct, Host = loop.Host };
        try
        {
            return loop.RunAsync(() => Task.FromResult(AioFile.Open(path, FileMode.Open, access, options))).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(benchCase.Direct ? "open (O_DIRECT)" : "open", path, e);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException(e.Message, e);
        }
    }

    public override string EngineName => EngineNames.Name(_host.Engine);

    /// <summary>A loop gives its thread back after this many page-cache hits in a row (docs/async.md: a flow whose reads
    /// all complete on the spot never gives the loop back), so that every one of a job's loops keeps reading.</summary>
    protected override int InlineRunLimit => 32;

    protected override Task StartLoop(int job, Func<Task> run) => _host.Loops[job].RunAsync(run);

    protected override ValueTask<int> ReadAsync(int job, Memory<byte> buffer, long offset) => _files[job].ReadAsync(buffer, offset);

    protected override ValueTask<int> WriteAsync(int job, ReadOnlyMemory<byte> buffer, long offset) => _files[job].WriteAsync(buffer, offset);

    public override void Dispose()
    {
        base.Dispose();
        DisposeAll(_files, _host); // every loop has ended (Join): nothing is in flight, and this thread is on no loop
    }

    private static void DisposeAll(AioFile?[] files, AioEngineHost host)
    {
        foreach (AioFile? file in files)
        {
            file?.Dispose();
        }
        host.Dispose();
    }
}
