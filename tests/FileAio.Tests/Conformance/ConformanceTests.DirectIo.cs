using FileAio.Buffers;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §6: direct I/O works with aligned buffers; a misaligned request fails with an ArgumentException naming the rule.
public sealed partial class ConformanceTests
{
    private SafeFileHandle OpenDirectPatternFile(long length)
    {
        Require.Linux();
        return Open(CreatePatternFile("direct.bin", length), FileMode.Open, FileAccess.ReadWrite, direct: true);
    }

    [Theory]
    [EachContext]
    public void DirectIo_AlignedReadsAndWrites_Succeed(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenDirectPatternFile(1 << 20);
        AioAlignment alignment = AioFile.GetAlignment(file);
        using var buffer = new AlignedBuffer(8192, Math.Max(alignment.MemoryAlignment, 4096));
        using var second = new AlignedBuffer(4096);
        using var request = new AioRequest();

        request.PrepareRead(file, 65536, buffer.Memory);
        context.Submit([request]);
        WaitForAll(context, 1);
        Assert.Equal(AioStatus.Success, request.Status);
        Assert.Equal(8192, request.BytesTransferred);
        AssertPattern(buffer.Memory.Span, 65536);

        request.PrepareWrite(file, 0, new ReadOnlyMemory<byte>[] { buffer.Memory[..4096], second.Memory });
        context.Submit([request]);
        WaitForAll(context, 1);
        Assert.Equal(8192, request.BytesTransferred);
    });

    [Theory]
    [EachContext]
    public void DirectIo_MisalignedOffset_ThrowsAtPrepareNamingTheRule(string engine) => Run(engine, () =>
    {
        SafeFileHandle file = OpenDirectPatternFile(1 << 16);
        AioAlignment alignment = AioFile.GetAlignment(file);
        using var buffer = new AlignedBuffer(4096);
        using var request = new AioRequest();
        var e = Assert.Throws<ArgumentException>(() => request.PrepareRead(file, alignment.OffsetAlignment + 1, buffer.Memory));
        Assert.Contains("Direct I/O rule", e.Message);
        Assert.Contains("offset", e.Message);
        Assert.Contains(alignment.OffsetAlignment.ToString(), e.Message);
        Assert.Equal(AioRequestState.Completed, request.State);
    });

    [Theory]
    [EachContext]
    public void DirectIo_MisalignedLength_ThrowsAtPrepareNamingTheRule(string engine) => Run(engine, () =>
    {
        SafeFileHandle file = OpenDirectPatternFile(1 << 16);
        using var buffer = new AlignedBuffer(8192);
        using var request = new AioRequest();
        var e = Assert.Throws<ArgumentException>(() => request.PrepareWrite(file, 0, buffer.Memory[..100]));
        Assert.Contains("Direct I/O rule", e.Message);
        Assert.Contains("length", e.Message);
        Assert.Throws<ArgumentException>(() =>
            request.PrepareRead(file, 0, new Memory<byte>[] { buffer.Memory[..4096], buffer.Memory.Slice(4096, 10) }));
    });

    [Theory]
    [EachContext]
    public void DirectIo_MisalignedAddress_ThrowsAtSubmitNamingTheRule_AndChangesNothing(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenDirectPatternFile(1 << 16);
        AioAlignment alignment = AioFile.GetAlignment(file);
        Assert.SkipWhen(alignment.MemoryAlignment == 1, "This file system accepts any buffer address.");
        using var buffer = new AlignedBuffer(3 * 4096);
        AioRequest[] batch = NewRequests(3);
        batch[0].PrepareRead(file, 0, buffer.Memory[..4096]);
        batch[1].PrepareRead(file, 4096, buffer.Memory.Slice(alignment.MemoryAlignment / 2, 4096)); // address off by half
        batch[2].PrepareRead(file, 8192, buffer.Memory.Slice(8192, 4096));

        var e = Assert.Throws<ArgumentException>(() => context.Submit(batch));
        Assert.Contains("Direct I/O rule", e.Message);
        Assert.Contains("address", e.Message);
        Assert.All(batch, r => Assert.Equal(AioRequestState.Prepared, r.State));
        Assert.Equal(0, context.Outstanding);
    });
}
