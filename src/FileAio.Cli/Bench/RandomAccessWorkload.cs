using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary><see cref="BenchApi.RandomAccess"/>: what .NET offers today. On Linux each
/// <see cref="RandomAccess.ReadAsync(SafeFileHandle, Memory{byte}, long, CancellationToken)"/> is a blocking
/// <c>pread</c> on a thread-pool thread, so "32 in flight" is really as many as the pool has threads running them.
/// With <c>--direct</c> the handle has O_DIRECT (set by FileAio with <c>fcntl</c>).</summary>
internal sealed class RandomAccessWorkload : AsyncLoopWorkload
{
    private readonly SafeFileHandle _file;

    private RandomAccessWorkload(BenchCase benchCase, BenchSettings settings, SafeFileHandle file)
        : base(benchCase, settings, BenchFileHandles.BufferAlignment(AioFile.GetAlignment(file)))
    {
        _file = file;
    }

    public static RandomAccessWorkload Create(BenchCase benchCase, BenchSettings settings)
    {
        SafeFileHandle file = BenchFileHandles.Open(settings.FilePath, benchCase);
        try
        {
            return new RandomAccessWorkload(benchCase, settings, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override string EngineName => "none";

    protected override ValueTask<int> ReadAsync(Memory<byte> buffer, long offset) => RandomAccess.ReadAsync(_file, buffer, offset);

    /// <summary><see cref="RandomAccess.WriteAsync(SafeFileHandle, ReadOnlyMemory{byte}, long, CancellationToken)"/>
    /// writes everything or throws; the pooling builder keeps this adapter from allocating a box per write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, long offset)
    {
        await RandomAccess.WriteAsync(_file, buffer, offset);
        return buffer.Length;
    }

    public override void Dispose()
    {
        base.Dispose();
        _file.Dispose();
    }
}
