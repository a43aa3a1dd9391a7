using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// Base of the loop-mode tests (<see cref="AioLoop"/>), run on every host variant (<see cref="TestEngines.Hosts"/>):
/// the loop is the engine thread of each engine, so each engine's sleep and wakeup path serves the scheduled work.
/// </summary>
public abstract class LoopTest : FileAioTest
{
    private HostVariant _variant = null!;
    private AioEngineHost? _host;

    protected void Use(string variant)
    {
        _variant = TestEngines.Host(variant);
        _variant.Engine.SkipUnlessSupported();
    }

    private protected HostVariant Variant => _variant;

    /// <summary>A two-loop host of the variant, disposed at the end of the test.</summary>
    protected AioEngineHost Host => _host ??= Own(_variant.Create(threads: 2));

    /// <summary>A host the test disposes itself (the base disposes it again at the end, which does nothing).</summary>
    protected AioEngineHost NewHost(int threads) => Own(_variant.Create(threads));

    protected AioFile OpenFile(AioEngineHost host, string path, FileMode mode = FileMode.OpenOrCreate, bool inlineCompletions = false) =>
        Own(AioFile.Open(path, mode, FileAccess.ReadWrite,
            new AioFileOptions { Host = host, InlineCachedReads = _variant.InlineCachedReads, InlineCompletions = inlineCompletions }));

    /// <summary>The managed id of <paramref name="loop"/>'s thread.</summary>
    protected static Task<int> ThreadIdOf(AioLoop loop) =>
        loop.RunAsync(() => Task.FromResult(Environment.CurrentManagedThreadId));

    /// <summary>A FIFO opened as an AioFile on <paramref name="host"/>, on the calling thread: a read of it waits in the
    /// kernel until fed. Fed for ever at the end of the test, so that a failing test cannot hang in Dispose.</summary>
    private protected HeldFifo NewHeldFifo(AioEngineHost host, string name = "held.fifo", bool inlineCompletions = false)
    {
        Require.Linux();
        string path = PathOf(name);
        Assert.Equal(0, TestNative.mkfifo(path, 0x180));
        HeldFifo fifo = Own(new HeldFifo(OpenFile(host, path, FileMode.Open, inlineCompletions), path));
        ReleaseFirstAtEnd(fifo.FeedForEver);
        return fifo;
    }

    protected static Task Bounded(Task task) => task.WaitAsync(LongTimeout);

    protected static Task<T> Bounded<T>(Task<T> task) => task.WaitAsync(LongTimeout);
}
