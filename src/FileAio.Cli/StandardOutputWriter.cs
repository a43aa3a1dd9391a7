using System.Text;

namespace FileAio.Cli;

/// <summary>
/// Standard output (or what stands for it in tests), turning a failed write into one clear
/// <see cref="IoFailureException"/> ("cannot write to standard output: No space left on device (ENOSPC, errno 28)"):
/// .NET's own exception names no file and carries only the errno's text, so the error looked like a failure of the
/// command's own files. Results are the only writes here; progress and errors go to standard error, unguarded.
/// </summary>
internal sealed class StandardOutputWriter : TextWriter
{
    private readonly TextWriter _inner;

    public StandardOutputWriter(TextWriter inner)
        : base(inner.FormatProvider)
    {
        _inner = inner;
        CoreNewLine = inner.NewLine.ToCharArray();
    }

    public override Encoding Encoding => _inner.Encoding;

    // Every other Write and WriteLine of TextWriter ends in one of these.
    public override void Write(char value)
    {
        try
        {
            _inner.Write(value);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        try
        {
            _inner.Write(buffer, index, count);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        try
        {
            _inner.Write(buffer);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    public override void Write(string? value)
    {
        try
        {
            _inner.Write(value);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    public override void WriteLine(string? value)
    {
        try
        {
            _inner.WriteLine(value);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    public override void Flush()
    {
        try
        {
            _inner.Flush();
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    private static IoFailureException Failed(IOException e)
    {
        int errno = ErrnoText.FromException(e);
        return new IoFailureException($"cannot write to standard output: {(errno != 0 ? ErrnoText.Describe(errno) : e.Message)}", e)
        {
            Errno = errno,
        };
    }
}
