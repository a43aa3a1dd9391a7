using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FileAio.Cli.Info;

/// <summary>A value as the kernel words it (/proc/self/limits, /proc/sys): a number when it is one ("8388608", "-1"),
/// else the word itself ("unlimited"), so that scripts get numbers without losing the kernel's words.</summary>
internal sealed class KernelNumberJsonConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number
            ? reader.GetInt64().ToString(CultureInfo.InvariantCulture)
            : reader.GetString();

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
