using System.Collections.Concurrent;

namespace FileAio.Tests.Model;

/// <summary>
/// How often each outcome worth reaching was reached over a test's sequences (counted from all sampling threads). A
/// model test prints the table and fails when an outcome it depends on never happened: checks of a case that never
/// ran would pass for any library.
/// </summary>
internal sealed class ModelCoverage
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Count(string outcome) => _counts.AddOrUpdate(outcome, 1, static (_, n) => n + 1);

    public long this[string outcome] => _counts.GetValueOrDefault(outcome);

    public override string ToString() =>
        string.Join(Environment.NewLine, _counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Value,10:N0}  {p.Key}"));

    /// <summary>Writes the table to the test's output, then fails naming every required outcome that never happened.</summary>
    public void Report(params string[] required)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(ToString());
        string[] missing = required.Where(r => this[r] == 0).ToArray();
        Assert.True(missing.Length == 0, $"Never reached: {string.Join(", ", missing)}.{Environment.NewLine}{this}");
    }
}
