using System.Diagnostics.Metrics;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// What one observable counter of the "FileAio" meter has counted since this object was made (tests run one at a
/// time). The library's counters are observable — totals kept by the engine threads and read when a listener asks —
/// so this asks twice and subtracts.
/// </summary>
internal sealed class MeasurementCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly long _baseline;
    private long _observed;

    public MeasurementCounter(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == "FileAio" && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Volatile.Write(ref _observed, value));
        _listener.Start();
        _baseline = Observe();
    }

    public long Total => Observe() - _baseline;

    private long Observe()
    {
        _listener.RecordObservableInstruments();
        return Volatile.Read(ref _observed);
    }

    public void Dispose() => _listener.Dispose();
}
