using System.Text.Json.Serialization;
using FileAio.Cli.Bench;
using FileAio.Cli.Info;

namespace FileAio.Cli;

/// <summary>
/// The JSON documents the CLI prints (<c>info --json</c>, <c>bench --json</c>), serialized by System.Text.Json's source
/// generator: no reflection, so they work trimmed and under NativeAOT (the project turns reflection-based serialization
/// off). Field names are the properties' in snake_case unless a property names its own; nulls are written, since a
/// null says "not known here" (docs/cli.md).
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    Converters = [typeof(EngineNameJsonConverter)])]
[JsonSerializable(typeof(InfoFacts))]
[JsonSerializable(typeof(BenchDocument))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
