namespace FileAio.Cli.Bench;

/// <summary>
/// <see cref="BenchApi.File"/>: FileAio's async file API — <c>iodepth</c> concurrent async loops, each awaiting
/// <see cref="AioFile.ReadAsync(Memory{byte}, long, CancellationToken)"/> / <c>WriteAsync</c> on its own aligned buffer,
/// served by the engine's threads (io_uring rings, or the thread-pool engine's workers). <see cref="BenchApi.FileInline"/>
/// opens the file with <see cref="AioFileOptions.InlineCompletions"/>: the same loops, resumed on the engine thread.
/// </summary>
internal sealed class FileApiWorkload : AsyncLoopWorkload
{
    private readonly AioFile _file;

    private FileApiWorkload(BenchCase benchCase, BenchSettings settings, AioFile file)
        : base(benchCase, settings, BenchFileHandles.BufferAlignment(AioFile.GetAlignment(file.Handle)))
    {
        _file = file;
    }

    public static FileApiWorkload Create(BenchCase benchCase, BenchSettings settings)
    {
        FileAccess access = BenchNames.Writes(benchCase.Rw) ? FileAccess.ReadWrite : FileAccess.Read;
        AioFile file;
        try
        {
            file = AioFile.Open(settings.FilePath, FileMode.Open, access, new AioFileOptions
            {
                Direct = benchCase.Direct,
                Engine = benchCase.Engine,
                InlineCompletions = benchCase.Api == BenchApi.FileInline,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(benchCase.Direct ? "open (O_DIRECT)" : "open", settings.FilePath, e);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException(e.Message, e);
        }
        try
        {
            return new FileApiWorkload(benchCase, settings, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override string EngineName => EngineNames.Name(_file.Engine);

    protected override ValueTask<int> ReadAsync(Memory<byte> buffer, long offset) => _file.ReadAsync(buffer, offset);

    protected override ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, long offset) => _file.WriteAsync(buffer, offset);

    public override void Dispose()
    {
        base.Dispose();
        _file.Dispose(); // every loop has ended (Join), so nothing is in flight
    }
}
