namespace FileAio.Cli.Bench;

/// <summary>What the bench shows while a case runs: a progress bar on a terminal, plain lines otherwise.</summary>
internal interface IBenchProgress
{
    /// <summary>A case begins: its number (1-based) of <paramref name="total"/> and what it is.</summary>
    void CaseStarting(int number, int total, string description);

    /// <summary>The loops run their warm-up on <paramref name="engine"/>.</summary>
    void WarmingUp(string engine);

    /// <summary>During warm-up only: a chance to redraw.</summary>
    void Tick();

    /// <summary>The measured phase begins: nothing is drawn until it ends.</summary>
    void Measuring();

    void CaseDone(BenchResult result);
}
