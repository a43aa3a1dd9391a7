using FileAio.Tests.Infrastructure;

namespace FileAio.FreshProcess;

/// <summary>
/// docs/async.md, "The inline mode", Exceptions: an exception escaping a continuation that runs inline on the engine
/// thread (a raw OnCompleted callback; an async method keeps its own) is raised as an unhandled exception on a
/// thread-pool thread, and the engine thread goes on with its other completions. A process of its own, because an
/// unhandled exception ends the process: the handler waits for the checks of the engine thread, then ends the process
/// with their verdict.
/// </summary>
internal static class InlineContinuationThrows
{
    public static Task Run(Scenario scenario)
    {
        var raised = new ManualResetEventSlim();
        var checkedAll = new ManualResetEventSlim();
        Exception? unhandled = null;
        int raisedOn = 0;
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            unhandled = e.ExceptionObject as Exception;
            raisedOn = Environment.CurrentManagedThreadId;
            raised.Set();
            // The runtime ends the process once this handler returns: end it here, after the checks, with their verdict.
            checkedAll.Wait(Scenario.Bound * 3);
            try
            {
                Directory.Delete(scenario.Directory, recursive: true);
            }
            catch (IOException)
            {
            }
            Environment.Exit(Scenario.Failures == 0 ? 0 : 1);
        };

        AioEngineHost host = scenario.NewHost();
        int engineThread = host.Loops[0].RunAsync(() => Task.FromResult(Environment.CurrentManagedThreadId)).Result;
        var fifo = new TestFifo(scenario.PathOf("held.fifo"));
        AioFile file = AioFile.Open(fifo.Path, FileMode.Open, FileAccess.ReadWrite,
            new AioFileOptions { Host = host, InlineCachedReads = false, InlineCompletions = true });

        int thrownOn = 0;
        ValueTask<int> first = file.ReadAsync(new byte[1], 0);
        first.GetAwaiter().OnCompleted(() =>
        {
            thrownOn = Environment.CurrentManagedThreadId;
            throw new InvalidDataException("thrown by a continuation running inline");
        });
        Thread.Sleep(50); // in the kernel
        fifo.Feed(1);
        if (!raised.Wait(Scenario.Bound))
        {
            throw Scenario.Stop("the exception thrown by the inline continuation was never raised as an unhandled exception");
        }
        Scenario.Check(thrownOn == engineThread, $"the continuation ran on thread {thrownOn}, not on the engine thread {engineThread}");
        Scenario.Check(unhandled is InvalidDataException { Message: "thrown by a continuation running inline" },
            $"the unhandled exception was {unhandled}");
        Scenario.Check(raisedOn != engineThread, "the unhandled exception was raised on the engine thread");

        // The engine thread survived it: the next operations complete, inline there.
        for (int i = 0; i < 3; i++)
        {
            Task<int> next = ReadOnce(file);
            Thread.Sleep(20);
            fifo.Feed(1);
            if (!Scenario.EndsWithin(next))
            {
                throw Scenario.Stop($"read {i} after the exception did not end within {Scenario.Bound.TotalSeconds:0} s: the engine thread stopped");
            }
            Scenario.Check(next.Result == engineThread, $"read {i} after the exception resumed on thread {next.Result}, not on the engine thread");
        }
        Scenario.Info("the exception was raised on a pool thread; the engine thread went on completing inline.");
        checkedAll.Set();
        Thread.Sleep(Scenario.Bound * 3);
        throw Scenario.Stop("the process did not end after the unhandled exception's handler");
    }

    private static async Task<int> ReadOnce(AioFile file)
    {
        await file.ReadAsync(new byte[1], 0);
        return Environment.CurrentManagedThreadId;
    }
}
