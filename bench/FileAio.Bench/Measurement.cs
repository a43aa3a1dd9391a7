using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace FileAio.Bench;

/// <summary>The counters of one measured phase and how they are printed.</summary>
internal sealed record Measurement(
    string Engine, bool Direct, int BlockSize, int IoDepth, double RuntimeSeconds,
    long Ops, long Errors, double CpuSeconds, long AllocatedBytes, string AllocScope)
{
    public double Iops => Ops / RuntimeSeconds;
    public double CpuMicrosecondsPerOp => Ops == 0 ? 0 : CpuSeconds * 1e6 / Ops;
    public double AllocBytesPerOp => Ops == 0 ? 0 : (double)AllocatedBytes / Ops;

    public void Print(bool json)
    {
        if (!json)
        {
            Console.WriteLine(
                $"{Engine} direct={(Direct ? 1 : 0)} bs={BlockSize} iodepth={IoDepth}: {Ops} ops in {RuntimeSeconds:F2} s = " +
                $"{Iops:F0} IOPS, {CpuMicrosecondsPerOp:F2} µs CPU/op, {AllocBytesPerOp:F3} B allocated/op ({AllocScope}), {Errors} errors");
            return;
        }
        var output = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString("engine", Engine);
        writer.WriteNumber("direct", Direct ? 1 : 0);
        writer.WriteNumber("bs", BlockSize);
        writer.WriteNumber("iodepth", IoDepth);
        writer.WriteNumber("runtime_s", Math.Round(RuntimeSeconds, 3));
        writer.WriteNumber("ops", Ops);
        writer.WriteNumber("iops", Math.Round(Iops, 1));
        writer.WriteNumber("cpu_us_per_op", Math.Round(CpuMicrosecondsPerOp, 3));
        writer.WriteNumber("alloc_bytes_per_op", Math.Round(AllocBytesPerOp, 3));
        writer.WriteString("alloc_scope", AllocScope);
        writer.WriteNumber("errors", Errors);
        writer.WriteEndObject();
        writer.Flush();
        Console.WriteLine(Encoding.UTF8.GetString(output.WrittenSpan));
    }
}

/// <summary>CPU time of the whole process (every thread: the caller, engine workers, the runtime's own), read before
/// and after the measured phase. Reading it allocates, so it is never read inside the phase.</summary>
internal static class ProcessCpu
{
    public static TimeSpan Now()
    {
        using Process self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
