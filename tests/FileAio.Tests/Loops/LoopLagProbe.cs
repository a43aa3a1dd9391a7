using System.Diagnostics.Metrics;

namespace FileAio.Tests.Loops;

/// <summary>Reads the meter's <c>fileaio.loop.lag</c> gauge: per loop (by <c>fileaio.loop.id</c>), the longest stretch
/// in µs since the last observation. Keyed by the id, not the thread name: every host names its threads from 0, so a
/// name would mix this test's loop with another host's (a test running beside it).</summary>
internal sealed class LoopLagProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<int, double> _last = [];

    public LoopLagProbe()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "FileAio" && instrument.Name == "fileaio.loop.lag")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "fileaio.loop.id")
                {
                    _last[(int)tag.Value!] = value;
                }
            }
        });
        _listener.Start();
    }

    public IReadOnlyDictionary<int, double> Observe()
    {
        _last.Clear();
        _listener.RecordObservableInstruments();
        return new Dictionary<int, double>(_last);
    }

    public void Dispose() => _listener.Dispose();
}
