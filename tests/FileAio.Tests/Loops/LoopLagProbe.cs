using System.Diagnostics.Metrics;

namespace FileAio.Tests.Loops;

/// <summary>Reads the meter's <c>fileaio.loop.lag</c> gauge: per loop (by thread name), the longest stretch in µs
/// since the last observation. Every host names its threads from 0, so loops of the same name (a shared host's, say)
/// are folded into the largest value.</summary>
internal sealed class LoopLagProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, double> _last = [];

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
                if (tag.Key == "fileaio.loop")
                {
                    string name = (string)tag.Value!;
                    _last[name] = Math.Max(value, _last.GetValueOrDefault(name));
                }
            }
        });
        _listener.Start();
    }

    public IReadOnlyDictionary<string, double> Observe()
    {
        _last.Clear();
        _listener.RecordObservableInstruments();
        return new Dictionary<string, double>(_last);
    }

    public void Dispose() => _listener.Dispose();
}
