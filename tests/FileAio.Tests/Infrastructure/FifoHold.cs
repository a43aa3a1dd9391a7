using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Held operations for io_uring: reads from a FIFO nobody writes to, and writes into a FIFO that is already full.
/// io_uring parks both on the FIFO's wait queue (a poll) until <see cref="Release"/> starts a feeder that writes into
/// the first FIFO and drains the second. Every engine can cancel them while they wait: io_uring's poll is cancellable,
/// and the thread-pool engine waits for a FIFO in poll with an eventfd it can be woken by.
/// </summary>
public sealed unsafe class FifoHold : IDisposable
{
    private const int F_SETPIPE_SZ = 1031;
    private const int PipeSize = 4096;

    private readonly SafeFileHandle _readFifo;      // blocking: what the engine reads from
    private readonly SafeFileHandle _writeFifo;     // blocking: what the engine writes into
    private readonly int _feedFd, _drainFd;          // non-blocking ends for the feeder
    private readonly byte[][] _readBuffers;
    private readonly byte[] _writeData = new byte[512];
    private Thread? _feeder;
    private volatile bool _stopping;

    public FifoHold(string directory, int count)
    {
        string readPath = Path.Combine(directory, "hold-read.fifo");
        string writePath = Path.Combine(directory, "hold-write.fifo");
        Check(TestNative.mkfifo(readPath, 0x180), "mkfifo");
        Check(TestNative.mkfifo(writePath, 0x180), "mkfifo");
        // O_RDWR opens of a FIFO never block, and keep it open for both directions.
        _readFifo = File.OpenHandle(readPath, FileMode.Open, FileAccess.ReadWrite);
        _writeFifo = File.OpenHandle(writePath, FileMode.Open, FileAccess.ReadWrite);
        _feedFd = TestNative.open(readPath, TestNative.O_RDWR | TestNative.O_NONBLOCK | TestNative.O_CLOEXEC);
        _drainFd = TestNative.open(writePath, TestNative.O_RDWR | TestNative.O_NONBLOCK | TestNative.O_CLOEXEC);
        Check(_feedFd, "open");
        Check(_drainFd, "open");

        // Fill the write FIFO to the brim, so any further write must wait for room.
        TestNative.fcntl(_drainFd, F_SETPIPE_SZ, PipeSize);
        var fill = new byte[PipeSize];
        fixed (byte* p = fill)
        {
            while (TestNative.write(_drainFd, p, (nuint)fill.Length) > 0)
            {
            }
        }

        _readBuffers = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            _readBuffers[i] = Enumerable.Repeat((byte)0xEE, 4096).ToArray();
        }
    }

    public void PrepareRead(AioRequest request, int index, object? userState = null) =>
        request.PrepareRead(_readFifo, 0, _readBuffers[index], userState);

    public void PrepareWrite(AioRequest request, int index, object? userState = null) =>
        request.PrepareWrite(_writeFifo, 0, _writeData, userState);

    public Memory<byte> ReadBuffer(int index) => _readBuffers[index];

    /// <summary>The FIFO the held reads read from (for a read that proves data flows once released).</summary>
    public SafeFileHandle ReadFifo => _readFifo;


    public void Release()
    {
        if (_feeder is not null)
        {
            return;
        }
        _feeder = new Thread(Feed) { IsBackground = true, Name = "FifoHold feeder" };
        _feeder.Start();
    }

    private void Feed()
    {
        var chunk = Enumerable.Repeat((byte)0x5A, 4096).ToArray();
        var sink = new byte[65536];
        fixed (byte* data = chunk)
        fixed (byte* drain = sink)
        {
            while (!_stopping)
            {
                // Non-blocking both ways: feed whoever reads, drain whoever writes, never wait on either.
                TestNative.write(_feedFd, data, (nuint)chunk.Length);
                TestNative.read(_drainFd, drain, (nuint)sink.Length);
                Thread.Sleep(1);
            }
        }
    }

    public void Dispose()
    {
        Release();
        _stopping = true;
        _feeder?.Join();
        TestNative.close(_feedFd);
        TestNative.close(_drainFd);
        _readFifo.Dispose();
        _writeFifo.Dispose();
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
