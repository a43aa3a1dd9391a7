using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// One blocking call on a thread of its own, which a test can wait for until the kernel has put the thread to sleep
/// (state S or D in <c>/proc/self/task/TID/stat</c>): the event a test needs before it acts on a call that is
/// blocked, instead of sleeping and hoping the call got there.
/// </summary>
internal sealed class BlockingCall<T>
{
    private readonly Thread _thread;
    private int _tid;
    private T? _result;
    private ExceptionDispatchInfo? _failure;

    public BlockingCall(Func<T> call, string name = "blocking call")
    {
        _thread = new Thread(() =>
        {
            Volatile.Write(ref _tid, TestNative.gettid());
            try
            {
                _result = call();
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
        }) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Waits until the call's thread sleeps in the kernel (or the call has returned).</summary>
    public void WaitUntilAsleep(TimeSpan timeout)
    {
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref _tid) != 0, timeout), "The call's thread did not start.");
        var waited = Stopwatch.StartNew(); // monotonic: a step of the wall clock must not end the wait
        while (_thread.IsAlive && !IsAsleep())
        {
            Assert.True(waited.Elapsed < timeout, "The call's thread never went to sleep in the kernel.");
            Thread.Yield();
        }
    }

    private bool IsAsleep() => BlockingCall.IsAsleep(_tid);

    /// <summary>The call's result, once it returns (failing the test if it does not within the timeout).</summary>
    public T Result(TimeSpan timeout)
    {
        Assert.True(_thread.Join(timeout), "The blocking call did not return.");
        _failure?.Throw();
        return _result!;
    }
}

/// <summary>Whether a thread sleeps in the kernel, read from /proc.</summary>
internal static class BlockingCall
{
    /// <summary>Waits until thread <paramref name="tid"/> (of this process) sleeps in the kernel.</summary>
    public static void WaitUntilAsleep(int tid, TimeSpan timeout) =>
        Assert.True(SpinWait.SpinUntil(() => IsAsleep(tid), timeout), $"Thread {tid} never went to sleep in the kernel.");

    public static bool IsAsleep(int tid)
    {
        try
        {
            // "tid (comm) S ...": the state follows the last ')' (the name may itself hold parentheses).
            string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
            char state = stat[stat.LastIndexOf(')') + 2];
            return state is 'S' or 'D';
        }
        catch (IOException)
        {
            return false; // the thread has ended
        }
    }
}
