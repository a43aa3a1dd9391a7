namespace FileAio.FreshProcess;

/// <summary>Ends a scenario whose failure <see cref="Scenario.Stop"/> has reported already.</summary>
internal sealed class ScenarioFailedException : Exception
{
}
