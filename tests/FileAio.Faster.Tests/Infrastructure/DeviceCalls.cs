using FASTER.core;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>Runs one device I/O and waits for its callback: the error code, the bytes, and the thread it ran on.</summary>
internal static class DeviceCalls
{
    public readonly record struct Outcome(uint ErrorCode, uint Bytes, int CallbackThread, int IssuingThread);

    public static Outcome Write(IDevice device, IntPtr source, ulong address, uint length) =>
        Run(done => device.WriteAsync(source, address, length, Callback, done));

    public static Outcome Read(IDevice device, ulong address, IntPtr destination, uint length) =>
        Run(done => device.ReadAsync(address, destination, length, Callback, done));

    private static Outcome Run(Action<Completion> issue)
    {
        var done = new Completion(Environment.CurrentManagedThreadId);
        issue(done);
        Assert.True(done.Signal.Wait(TimeSpan.FromSeconds(30)), "The device never called back.");
        return done.Outcome;
    }

    private static void Callback(uint errorCode, uint numBytes, object context)
    {
        var done = (Completion)context;
        done.Outcome = new Outcome(errorCode, numBytes, Environment.CurrentManagedThreadId, done.IssuingThread);
        done.Signal.Set();
    }

    private sealed class Completion(int issuingThread)
    {
        public int IssuingThread { get; } = issuingThread;
        public ManualResetEventSlim Signal { get; } = new();
        public Outcome Outcome { get; set; }
    }
}
