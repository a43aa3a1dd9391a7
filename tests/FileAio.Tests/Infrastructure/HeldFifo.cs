namespace FileAio.Tests.Infrastructure;

/// <summary>
/// A FIFO opened as an <see cref="AioFile"/>, with nothing in it until <see cref="Feed"/>: a read of the file waits in
/// the kernel for data, and every engine can cancel it while it waits. The test writes through a descriptor of its
/// own, opened non-blocking, so feeding never blocks the test.
/// </summary>
internal sealed unsafe class HeldFifo(AioFile file, string path) : IDisposable
{
    private readonly int _feeder = OpenFeeder(path);
    private Thread? _feedForEver;
    private volatile bool _disposed;

    public AioFile File { get; } = file;

    private static int OpenFeeder(string path)
    {
        int fd = TestNative.open(path, TestNative.O_RDWR | TestNative.O_NONBLOCK | TestNative.O_CLOEXEC);
        Assert.True(fd >= 0, $"open {path} failed");
        return fd;
    }

    /// <summary>Writes <paramref name="count"/> bytes of <paramref name="value"/> into the FIFO.</summary>
    public void Feed(int count, byte value)
    {
        byte* data = stackalloc byte[count];
        new Span<byte>(data, count).Fill(value);
        Assert.Equal(count, (int)TestNative.write(_feeder, data, (nuint)count));
    }

    /// <summary>At the end of a test: keeps the FIFO fed, so that no read a failing test left behind can keep its
    /// file's disposal waiting (the tests of disposal itself do not rely on this).</summary>
    public void FeedForEver()
    {
        _feedForEver ??= new Thread(() =>
        {
            byte* chunk = stackalloc byte[4096];
            while (!_disposed)
            {
                TestNative.write(_feeder, chunk, 4096);
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "HeldFifo feeder" };
        if (!_feedForEver.IsAlive)
        {
            _feedForEver.Start();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _feedForEver?.Join();
        TestNative.close(_feeder);
    }
}
