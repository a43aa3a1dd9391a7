using System.Diagnostics.Metrics;

namespace FileAio.Tests.Infrastructure;

/// <summary>Sums what one instrument of the "FileAio" meter reports while it is alive (tests run one at a time).</summary>
internal sealed class MeasurementCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public MeasurementCounter(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == "FileAio" && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
