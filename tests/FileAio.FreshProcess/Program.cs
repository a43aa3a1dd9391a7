using FileAio;
using FileAio.FreshProcess;

// Scenarios that need a process of their own, run by tests/FileAio.Tests through Infrastructure/FreshProcess.cs:
// the first operations of a fresh process (code running for the first time is slow, which widens races), and misuse
// of a ValueTask that a broken library answers by killing the process (a NullReferenceException on an engine thread).
//
//   dotnet FileAio.FreshProcess.dll SCENARIO ENGINE [ROUNDS [DELAY-MICROSECONDS]]
//
// Exit code 0: every check held. 1: a check failed; each failure is a line "FAIL: ..." on stdout. 2: bad usage. Any
// other code means the process died (134: a FailFast, whose message is on stderr). Every wait is bounded: a hang is a
// failure after a few seconds, not a process that never ends.

if (args.Length is < 2 or > 4 || !Enum.TryParse(args[1], out AioEngineKind engine) || !Scenarios.All.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: FileAio.FreshProcess SCENARIO ENGINE [ROUNDS [DELAY-MICROSECONDS]]; scenarios: {string.Join(", ", Scenarios.All.Keys)}");
    return 2;
}
int rounds = args.Length >= 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
int delay = args.Length == 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0;
string directory = Path.Combine(Path.GetTempPath(), "fileaio-fresh-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(directory);
try
{
    await run(new Scenario(engine, directory, rounds, delay));
}
catch (ScenarioFailedException)
{
    // Reported already.
}
catch (Exception e)
{
    Scenario.Fail($"the scenario threw {e}");
}
finally
{
    try
    {
        Directory.Delete(directory, recursive: true);
    }
    catch (IOException)
    {
    }
}
return Scenario.Failures == 0 ? 0 : 1;
