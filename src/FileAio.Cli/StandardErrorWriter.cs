using System.Text;

namespace FileAio.Cli;

/// <summary>
/// Standard error, written on a best-effort basis: a write that fails there (a full disk, a closed pipe) is dropped.
/// Standard error is where failures are reported, so a failure to write it has nowhere to go; letting it throw would
/// turn the exit code the command earned (3 for standard output on a full disk, say) into a crash. Programs such as
/// <c>cp</c> and <c>cat</c> ignore errors on standard error the same way.
/// </summary>
internal sealed class StandardErrorWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // TextWriter.NewLine's setter takes null (the default line end); so does the inner writer's
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value) => Try(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Try(() => inner.Write(buffer, index, count));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (IOException)
        {
            // dropped: see the class remarks
        }
    }

    public override void Write(string? value) => Try(() => inner.Write(value));

    public override void WriteLine(string? value) => Try(() => inner.WriteLine(value));

    public override void Flush() => Try(inner.Flush);

    private static void Try(Action write)
    {
        try
        {
            write();
        }
        catch (IOException)
        {
            // dropped: see the class remarks
        }
    }
}
