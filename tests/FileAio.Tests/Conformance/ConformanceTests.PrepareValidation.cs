using Microsoft.Win32.SafeHandles;

using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Conformance;

// SPEC §1 and §7: arguments are checked at prepare time, with exceptions that name the rule.
public sealed partial class ConformanceTests
{
    public static TheoryData<string> PrepareKinds => ["read", "write", "readv", "writev", "flush"];

    private static void PrepareAny(AioRequest request, string kind, SafeFileHandle file, long offset, int length)
    {
        switch (kind)
        {
            case "read": request.PrepareRead(file, offset, new byte[length]); break;
            case "write": request.PrepareWrite(file, offset, new byte[length]); break;
            case "readv": request.PrepareRead(file, offset, new Memory<byte>[] { new byte[length], new byte[length] }); break;
            case "writev": request.PrepareWrite(file, offset, new ReadOnlyMemory<byte>[] { new byte[length], new byte[length] }); break;
            case "flush": request.PrepareFlush(file); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    [Theory]
    [MemberData(nameof(PrepareKinds))]
    public void Prepare_NullHandle_ThrowsArgumentNull(string kind)
    {
        using var request = new AioRequest();
        Assert.Throws<ArgumentNullException>(() => PrepareAny(request, kind, null!, 0, 16));
        Assert.Equal(AioRequestState.Completed, request.State);
    }

    [Theory]
    [MemberData(nameof(PrepareKinds))]
    public void Prepare_ClosedHandle_ThrowsArgumentException(string kind)
    {
        SafeFileHandle file = OpenPatternFile(4096);
        file.Dispose();
        using var request = new AioRequest();
        var e = Assert.Throws<ArgumentException>(() => PrepareAny(request, kind, file, 0, 16));
        Assert.Contains("closed", e.Message);
    }

    [Theory]
    [MemberData(nameof(PrepareKinds))]
    public void Prepare_InvalidHandle_ThrowsArgumentException(string kind)
    {
        using var invalid = new SafeFileHandle(-1, ownsHandle: false);
        using var request = new AioRequest();
        var e = Assert.Throws<ArgumentException>(() => PrepareAny(request, kind, invalid, 0, 16));
        Assert.Contains("invalid", e.Message);
    }

    [Theory]
    [EachContext("read")]
    [EachContext("write")]
    [EachContext("readv")]
    [EachContext("writev")]
    public void Prepare_NegativeOffset_ThrowsArgumentOutOfRange(string engine, string kind) => Run(engine, () =>
    {
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PrepareAny(request, kind, file, -1, 16));
        Assert.Contains("negative", e.Message);
    });

    [Theory]
    [EachContext("read")]
    [EachContext("write")]
    [EachContext("readv")]
    [EachContext("writev")]
    public void Prepare_EmptyBuffer_ThrowsArgumentException(string engine, string kind) => Run(engine, () =>
    {
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        var e = Assert.Throws<ArgumentException>(() => PrepareAny(request, kind, file, 0, 0));
        Assert.Contains("non-empty buffer", e.Message);
    });

    [Theory]
    [EachContext]
    public void PrepareVectored_NoBuffersOrTooMany_ThrowsArgumentException(string engine) => Run(engine, () =>
    {
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        Assert.Throws<ArgumentNullException>(() => request.PrepareRead(file, 0, (IReadOnlyList<Memory<byte>>)null!));
        Assert.Throws<ArgumentException>(() => request.PrepareRead(file, 0, Array.Empty<Memory<byte>>()));
        var many = Enumerable.Range(0, 1025).Select(_ => (ReadOnlyMemory<byte>)new byte[1]).ToArray();
        var e = Assert.Throws<ArgumentException>(() => request.PrepareWrite(file, 0, many));
        Assert.Contains("1 to 1024 buffers", e.Message);
        Assert.Equal(AioRequestState.Completed, request.State);
    });
}
