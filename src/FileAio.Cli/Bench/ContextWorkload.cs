using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Bench;

/// <summary><see cref="BenchApi.Context"/>: <c>jobs</c> <see cref="ContextJob"/>s, each with its own context and thread,
/// over one shared file handle.</summary>
internal sealed class ContextWorkload : IBenchWorkload
{
    private readonly SafeFileHandle _file;
    private readonly List<ContextJob> _jobs = [];

    public ContextWorkload(BenchCase benchCase, BenchSettings settings)
    {
        _file = BenchFileHandles.Open(settings.FilePath, benchCase);
        try
        {
            int alignment = BenchFileHandles.BufferAlignment(AioFile.GetAlignment(_file));
            long region = settings.FileSize / benchCase.Jobs;
            for (int j = 0; j < benchCase.Jobs; j++)
            {
                // Sequential jobs each walk their own slice of the file; random jobs roam the whole file.
                SequentialCursor? cursor = BenchNames.IsRandom(benchCase.Rw) ? null : new SequentialCursor(j * region, region, benchCase.BlockSize);
                _jobs.Add(new ContextJob(_file, benchCase, settings.FileSize, alignment, cursor, 0x5EED_F11E_A10UL + (ulong)j));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string EngineName => _jobs[0].EngineName;

    public IReadOnlyList<WorkerStats> Stats => [.. _jobs.Select(j => j.Stats)];

    public void Start(BenchPhase phase)
    {
        for (int i = 0; i < _jobs.Count; i++)
        {
            _jobs[i].Start(phase, i);
        }
    }

    public void Join()
    {
        foreach (ContextJob job in _jobs)
        {
            job.Join();
        }
    }

    public void Dispose()
    {
        foreach (ContextJob job in _jobs)
        {
            job.Dispose();
        }
        _file.Dispose();
    }
}
