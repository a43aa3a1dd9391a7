namespace FileAio.Cli.Commands;

/// <summary>
/// Reads one word of an option's value. Returns null and the value, or why the word is not one, as a phrase that
/// quotes it (<c>'4x' is not a size (examples: 4096, 4k, 1m, 1g)</c>); <see cref="OptionParsers"/> prints the option's
/// name in front of it, so every message says which option and which value are wrong.
/// </summary>
internal delegate string? ValueReader<T>(string text, out T value);
