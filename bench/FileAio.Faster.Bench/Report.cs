using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FileAio.Faster.Bench;

/// <summary>One run's results as named values, printed as one JSON object (for compare-faster.sh) or as lines.</summary>
internal sealed class Report
{
    private readonly List<(string Name, object Value)> _values = [];

    public Report Add(string name, string value)
    {
        _values.Add((name, value));
        return this;
    }

    public Report Add(string name, long value)
    {
        _values.Add((name, value));
        return this;
    }

    public Report Add(string name, double value, int digits = 3)
    {
        _values.Add((name, Math.Round(value, digits)));
        return this;
    }

    public void Print(bool json)
    {
        if (!json)
        {
            foreach ((string name, object value) in _values)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22} {value}"));
            }
            return;
        }
        var output = new ArrayBufferWriter<byte>();
        // Relaxed escaping: the values are ours (no HTML around them), and "rdwr+direct" should read as that.
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach ((string name, object value) in _values)
            {
                switch (value)
                {
                    case string s: writer.WriteString(name, s); break;
                    case long l: writer.WriteNumber(name, l); break;
                    case double d: writer.WriteNumber(name, d); break;
                    default: throw new InvalidOperationException($"no JSON form for {value.GetType()}");
                }
            }
            writer.WriteEndObject();
        }
        Console.WriteLine(Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
