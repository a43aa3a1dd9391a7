using FASTER.core;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>Reads kept in flight, each callback issuing the next (re-entry from callbacks, as FASTER does), over one
/// page per chain. Counts failed reads, and callbacks that ran inside the ReadAsync call that issued their read.</summary>
internal sealed class ReadChains
{
    [ThreadStatic]
    private static int t_issuing; // ReadAsync calls of this class running on this thread

    private readonly FileAioDevice _device;
    private readonly IntPtr _buffer;
    private readonly object[] _contexts;
    private readonly DeviceIOCompletionCallback _callback;
    private readonly ManualResetEventSlim _done = new();
    private int _remaining;
    private int _active;
    private int _errors;
    private int _inline;

    public ReadChains(FileAioDevice device, IntPtr buffer, int chains)
    {
        _device = device;
        _buffer = buffer;
        _contexts = [.. Enumerable.Range(0, chains).Select(i => (object)i)];
        _callback = OnRead; // one delegate for every read
    }

    /// <summary>Runs <paramref name="reads"/> reads across the chains and waits for the last callback.</summary>
    public void Go(int reads)
    {
        _done.Reset();
        _remaining = reads;
        _active = _contexts.Length;
        for (int c = 0; c < _contexts.Length; c++)
        {
            Issue(c);
        }
        Assert.True(_done.Wait(TimeSpan.FromSeconds(60)), "The reads did not finish.");
        Assert.Equal(0, _errors);
        Assert.Equal(0, _inline);
    }

    private void Issue(int chain)
    {
        t_issuing++;
        try
        {
            _device.ReadAsync((ulong)chain * 4096, _buffer + chain * 4096, 4096, _callback, _contexts[chain]);
        }
        finally
        {
            t_issuing--;
        }
    }

    private void OnRead(uint error, uint bytes, object context)
    {
        if (error != 0 || bytes != 4096)
        {
            Interlocked.Increment(ref _errors);
        }
        bool inline = t_issuing > 0;
        if (inline)
        {
            // Each read would nest one call deeper, as FASTER would be re-entered: end this chain instead of the stack.
            Interlocked.Increment(ref _inline);
        }
        if (!inline && Interlocked.Decrement(ref _remaining) >= 0)
        {
            Issue((int)context);
        }
        else if (Interlocked.Decrement(ref _active) == 0)
        {
            _done.Set();
        }
    }
}
