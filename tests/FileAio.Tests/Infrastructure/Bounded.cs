namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Waits with a bound for operations that a defect could hold for ever. A hang becomes a failure that says what did not
/// happen — after <c>release</c> has let go of what the operation waits on (fed the FIFO, resolved the stall), so that
/// the operation ends and the test process goes on.
/// </summary>
internal static class Bounded
{
    /// <summary>How long an operation that should end at once (a cancellation, a flush of a few bytes) may take.</summary>
    public static TimeSpan Bound { get; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an operation may take to end once what held it was released.</summary>
    private static TimeSpan AfterRelease { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Waits for <paramref name="task"/> to end, in any way; fails if it does not within <see cref="Bound"/>.</summary>
    public static async Task Ends(Task task, string what, Action release)
    {
        if (await EndsWithin(task, Bound))
        {
            return;
        }
        release();
        bool endedAfterRelease = await EndsWithin(task, AfterRelease);
        Assert.Fail($"{what} did not end within {Bound.TotalSeconds:0} s" +
            (endedAfterRelease ? " (it ended only once the test released what held it)." : ", nor after the test released what held it."));
    }

    /// <summary>Waits for <paramref name="task"/>; fails unless it completes successfully within <see cref="Bound"/>.</summary>
    public static async Task<T> Completes<T>(Task<T> task, string what, Action release)
    {
        await Ends(task, what, release);
        return await task;
    }

    /// <summary>Waits for <paramref name="task"/>; fails unless it completes successfully within <see cref="Bound"/>.</summary>
    public static async Task Completes(Task task, string what, Action release)
    {
        await Ends(task, what, release);
        await task;
    }

    /// <summary>Waits for <paramref name="task"/>; fails unless it ends with <see cref="OperationCanceledException"/>
    /// within <see cref="Bound"/>.</summary>
    public static async Task EndsCanceled(Task task, string what, Action release)
    {
        await Ends(task, what, release);
        Exception? outcome = task.Exception?.InnerException;
        if (task.IsCanceled || outcome is OperationCanceledException)
        {
            return;
        }
        Assert.Fail(outcome is null
            ? $"{what} completed successfully instead of ending with OperationCanceledException."
            : $"{what} ended with {outcome.GetType().Name} ({outcome.Message}) instead of OperationCanceledException.");
    }

    /// <summary>Whether <paramref name="task"/> ends (in any way) within <paramref name="bound"/>.</summary>
    public static async Task<bool> EndsWithin(Task task, TimeSpan bound)
    {
        Task first = await Task.WhenAny(task, Task.Delay(bound));
        return first == task;
    }
}
