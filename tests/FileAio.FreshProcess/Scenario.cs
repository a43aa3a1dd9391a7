using FileAio.Tests.Infrastructure;

namespace FileAio.FreshProcess;

/// <summary>What a scenario runs with, and how it reports: each failed check prints one "FAIL:" line at once (so a
/// later crash cannot hide it) and counts; <see cref="Stop"/> also ends the scenario.</summary>
internal sealed class Scenario(AioEngineKind engine, string directory, int rounds, int delayMicroseconds)
{
    /// <summary>How long an operation that should end at once may take.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    private static int s_failures;

    public static int Failures => Volatile.Read(ref s_failures);

    public AioEngineKind Engine { get; } = engine;

    public string Directory { get; } = directory;

    public int Rounds { get; } = rounds;

    /// <summary>How long to wait, busily, between a call and the cancel that follows it (0: none).</summary>
    public int DelayMicroseconds { get; } = delayMicroseconds;

    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    public static void Fail(string message)
    {
        Interlocked.Increment(ref s_failures);
        Console.Out.WriteLine("FAIL: " + message);
        Console.Out.Flush();
    }

    public static void Info(string message)
    {
        Console.Out.WriteLine(message);
        Console.Out.Flush();
    }

    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            Fail(message);
        }
    }

    /// <summary>Reports a failure and ends the scenario.</summary>
    public static ScenarioFailedException Stop(string message)
    {
        Fail(message);
        return new ScenarioFailedException();
    }

    /// <summary>A host of this scenario's engine with one thread, so that every file shares it.</summary>
    public AioEngineHost NewHost() => AioEngineHost.Create(Engine, threads: 1);

    public static AioFile Open(AioEngineHost host, string path, FileMode mode = FileMode.Open) =>
        AioFile.Open(path, mode, FileAccess.ReadWrite, new AioFileOptions { Host = host, InlineCachedReads = false });

    /// <summary>A file of <paramref name="length"/> bytes where byte i is <see cref="PatternByte"/>(i).</summary>
    public string CreatePatternFile(string name, int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = PatternByte(i);
        }
        string path = PathOf(name);
        File.WriteAllBytes(path, data);
        return path;
    }

    public static byte PatternByte(long position) => (byte)((position * 7 + 1) % 251);

    /// <summary>
    /// A read on <paramref name="host"/> that stays in the engine until <c>Release</c>: on the kernel engines a read of
    /// an empty FIFO (64 bytes of 0x5A are fed on release; io_uring parks it in the ring, Linux AIO and POSIX AIO on
    /// their side path), on the thread-pool engine a read of a file into memory that
    /// page-faults on userfaultfd (the file's bytes arrive on release; needs root). <c>Expected</c> is what the read
    /// must then return.
    /// </summary>
    public (AioFile File, Memory<byte> Buffer, long Offset, Action Release, byte[] Expected) HeldRead(AioEngineHost host, string name)
    {
        if (Engine != AioEngineKind.ThreadPool)
        {
            var fifo = new TestFifo(PathOf(name + ".fifo"));
            AioFile file = Open(host, fifo.Path);
            return (file, Enumerable.Repeat((byte)0xEE, 64).ToArray(), 0, () => fifo.Feed(64), Enumerable.Repeat((byte)0x5A, 64).ToArray());
        }
        var stall = new UserfaultStall(4096); // lives as long as the process
        AioFile source = Open(host, CreatePatternFile(name + ".bin", 64 * 1024));
        byte[] expected = new byte[4096];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = PatternByte(8192 + i);
        }
        return (source, stall.Memory, 8192, stall.Release, expected);
    }

    /// <summary>Waits for <paramref name="task"/> within <see cref="Bound"/>; false (nothing reported) if it did not end.</summary>
    public static bool EndsWithin(Task task, TimeSpan? bound = null)
    {
        try
        {
            return task.Wait(bound ?? Bound);
        }
        catch (AggregateException)
        {
            return true; // ended, with an exception
        }
    }

    public static string Outcome(Task<int> task) => task.Status switch
    {
        TaskStatus.RanToCompletion => $"{task.Result} bytes",
        TaskStatus.Faulted => $"{task.Exception!.InnerException!.GetType().Name}: {task.Exception.InnerException.Message}",
        TaskStatus.Canceled => "cancelled",
        _ => "still running",
    };
}
