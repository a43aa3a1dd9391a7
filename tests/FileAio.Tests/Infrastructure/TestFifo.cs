using System.Runtime.InteropServices;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// A FIFO in the test's directory, with a non-blocking end of the test's own: <see cref="Feed"/> gives data to reads
/// held on it, <see cref="Fill"/> leaves no room so that writes into it are held, <see cref="Drain"/> takes data out
/// (making room for held writes, or showing that nobody else took what was fed). The library opens the FIFO by
/// <see cref="Path"/> like any file; an O_RDWR open of a FIFO never blocks.
/// </summary>
public sealed unsafe class TestFifo : IDisposable
{
    private const int F_SETPIPE_SZ = 1031;
    private const int EAGAIN = 11;
    private int _fd;

    public TestFifo(string path)
    {
        Path = path;
        if (TestNative.mkfifo(path, 0x180) != 0)
        {
            throw new InvalidOperationException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        _fd = TestNative.open(path, TestNative.O_RDWR | TestNative.O_NONBLOCK | TestNative.O_CLOEXEC);
        if (_fd < 0)
        {
            throw new InvalidOperationException($"open {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public string Path { get; }

    /// <summary>Shrinks the pipe to one page and fills it: a write into the FIFO must then wait for <see cref="Drain"/>.</summary>
    public void Fill()
    {
        TestNative.fcntl(_fd, F_SETPIPE_SZ, 4096);
        byte* chunk = stackalloc byte[4096];
        new Span<byte>(chunk, 4096).Fill(0x33);
        while (TestNative.write(_fd, chunk, 4096) > 0)
        {
        }
        int errno = Marshal.GetLastPInvokeError();
        if (errno != EAGAIN)
        {
            throw new InvalidOperationException($"filling {Path} failed: errno {errno}");
        }
    }

    /// <summary>Writes <paramref name="count"/> bytes of <paramref name="value"/> without blocking; returns how many went in.</summary>
    public int Feed(int count, byte value = 0x5A)
    {
        var data = new byte[count];
        Array.Fill(data, value);
        fixed (byte* p = data)
        {
            nint written = TestNative.write(_fd, p, (nuint)count);
            return written < 0 ? 0 : (int)written;
        }
    }

    /// <summary>Reads what the FIFO holds without blocking, up to 1 MiB; returns how many bytes came out.</summary>
    public int Drain()
    {
        var sink = new byte[65536];
        int total = 0;
        fixed (byte* p = sink)
        {
            while (total < (1 << 20))
            {
                nint read = TestNative.read(_fd, p, (nuint)sink.Length);
                if (read <= 0)
                {
                    break;
                }
                total += (int)read;
            }
        }
        return total;
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            TestNative.close(_fd);
            _fd = -1;
        }
    }
}
