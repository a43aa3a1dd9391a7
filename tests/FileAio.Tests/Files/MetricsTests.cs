using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Files;

/// <summary>The meter "FileAio": what it counts, and that no listener code ever runs on an engine thread (its counters
/// are observable, read when a listener asks; latency is recorded by the caller that reads the result).</summary>
public sealed class MetricsTests : FileAioTest
{
    [Theory, EachHost]
    public async Task Operations_AreCountedExactly_AndListenersNeverRunOnAnEngineThread(string host)
    {
        HostVariant variant = TestEngines.Host(host);
        variant.Engine.SkipUnlessSupported();
        const int Reads = 300, Writes = 100;
        using var operations = new MeasurementCounter("fileaio.operations");
        using var bytes = new MeasurementCounter("fileaio.bytes");
        var listenerThreads = new ConcurrentDictionary<string, int>();
        long latencies = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "FileAio")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            listenerThreads.TryAdd(Thread.CurrentThread.Name ?? "(pool)", 0);
            if (instrument.Name == "fileaio.latency")
            {
                Interlocked.Increment(ref latencies);
            }
        });
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => listenerThreads.TryAdd(Thread.CurrentThread.Name ?? "(pool)", 0));
        listener.Start();

        AioEngineHost engines = Own(variant.Create(threads: 1));
        AioFile file = Own(AioFile.Open(PathOf("m.bin"), FileMode.CreateNew, FileAccess.ReadWrite,
            new AioFileOptions { Host = engines, InlineCachedReads = variant.InlineCachedReads }));
        var buffer = new byte[4096];
        for (int i = 0; i < Writes; i++)
        {
            Assert.Equal(4096, await file.WriteAsync(buffer, i * 4096L));
        }
        for (int i = 0; i < Reads; i++)
        {
            Assert.Equal(4096, await file.ReadAsync(buffer, i % Writes * 4096L));
        }
        listener.RecordObservableInstruments();

        Assert.Equal(Reads + Writes, operations.Total);
        Assert.Equal((Reads + Writes) * 4096L, bytes.Total);
        Assert.Equal(Reads + Writes, Interlocked.Read(ref latencies));
        Assert.DoesNotContain(listenerThreads.Keys, name => name.StartsWith("FileAio", StringComparison.Ordinal));
    }
}
