using System.Text.Json;
using System.Text.Json.Serialization;

namespace FileAio.Cli;

/// <summary>An engine in JSON by its command-line name (<c>io_uring</c>, <c>linux-aio</c>, <see cref="EngineNames"/>),
/// not by the enum member's.</summary>
internal sealed class EngineNameJsonConverter : JsonConverter<AioEngineKind>
{
    public override AioEngineKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        EngineNames.Read(reader.GetString() ?? "", out AioEngineKind kind) is string problem ? throw new JsonException(problem) : kind;

    public override void Write(Utf8JsonWriter writer, AioEngineKind value, JsonSerializerOptions options) =>
        writer.WriteStringValue(EngineNames.Name(value));
}
