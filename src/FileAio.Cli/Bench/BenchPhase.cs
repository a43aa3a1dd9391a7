namespace FileAio.Cli.Bench;

/// <summary>
/// The phase of a running case, set by the runner and read by every worker loop before each operation or batch.
/// Workers count and time only what completes while they see <see cref="Measure"/>; operations stay in flight across
/// the warm-up boundary (as fio's <c>ramp_time</c>), and <see cref="Stop"/> makes each loop drain and return.
/// </summary>
internal sealed class BenchPhase
{
    public const int Warmup = 0;
    public const int Measure = 1;
    public const int Stop = 2;

    private volatile int _value = Warmup;

    public int Value => _value;

    public void Set(int value) => _value = value;
}
