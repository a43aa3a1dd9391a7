using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §1: request states, results, user state, disposal.
public sealed partial class ConformanceTests
{
    [Theory]
    [EachContext]
    public void NewRequest_IsCompletedWithSuccessZeroBytesAndNoUserState(string engine) => Run(engine, () =>
    {
        using var request = new AioRequest();
        Assert.Equal(AioRequestState.Completed, request.State);
        Assert.Equal(AioStatus.Success, request.Status);
        Assert.Equal(0, request.BytesTransferred);
        Assert.Equal(0, request.ErrorCode);
        Assert.Null(request.ErrorMessage);
        Assert.Null(request.UserState);
    });

    [Theory]
    [EachContext]
    public void Prepare_FromCompletedOrPrepared_GivesPreparedAndNotSubmitted(string engine) => Run(engine, () =>
    {
        SafeFileHandle file = OpenPatternFile(8192);
        using var request = new AioRequest();

        request.PrepareRead(file, 0, new byte[512], "first");
        Assert.Equal(AioRequestState.Prepared, request.State);
        Assert.Equal(AioStatus.NotSubmitted, request.Status);
        Assert.Equal(0, request.BytesTransferred);

        request.PrepareWrite(file, 512, new byte[512], "second");
        Assert.Equal(AioRequestState.Prepared, request.State);
        Assert.Equal("second", request.UserState);

        request.PrepareFlush(file, dataOnly: true, "third");
        Assert.Equal(AioRequestState.Prepared, request.State);
        Assert.Equal("third", request.UserState);
    });

    [Theory]
    [EachContext]
    public void Submit_ThenWait_MovesThroughSubmittedToCompletedWithTheResult(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        FifoHold hold = Hold();
        var state = new object();
        AioRequest request = SubmitHeldRead(context, hold, userState: state);

        Assert.Equal(AioRequestState.Submitted, request.State);
        Assert.Equal(AioStatus.InProgress, request.Status);
        Assert.Equal(0, request.BytesTransferred);
        Assert.Same(state, request.UserState);
        Assert.Equal(1, context.Outstanding);

        hold.Release();
        List<AioRequest> reported = WaitForAll(context, 1);
        Assert.Same(request, reported[0]);
        Assert.Equal(AioRequestState.Completed, request.State);
        Assert.Equal(AioStatus.Success, request.Status);
        Assert.InRange(request.BytesTransferred, 1, 4096);
        Assert.Same(state, request.UserState);
        Assert.Equal(0, context.Outstanding);
    });

    [Theory]
    [EachContext]
    public void Prepare_WhileSubmitted_ThrowsInvalidOperationAndKeepsTheRequest(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        FifoHold hold = Hold();
        AioRequest request = SubmitHeldRead(context, hold);

        var e = Assert.Throws<InvalidOperationException>(() => request.PrepareRead(file, 0, new byte[10]));
        Assert.Contains("Submitted", e.Message);
        Assert.Throws<InvalidOperationException>(() => request.PrepareFlush(file));
        Assert.Equal(AioRequestState.Submitted, request.State);

        hold.Release();
        WaitForAll(context, 1);
        Assert.InRange(request.BytesTransferred, 1, 4096);
    });

    [Theory]
    [EachContext]
    public void Dispose_WhileSubmitted_IsRefused_AndAllowedOtherwise(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        FifoHold hold = Hold();
        var request = new AioRequest();
        hold.PrepareRead(request, 0);
        context.Submit([request]);

        Assert.Throws<InvalidOperationException>(request.Dispose);
        Assert.Equal(AioRequestState.Submitted, request.State);

        hold.Release();
        WaitForAll(context, 1);
        request.Dispose();
        request.Dispose(); // idempotent

        var prepared = new AioRequest();
        prepared.PrepareRead(file, 0, new byte[16]);
        prepared.Dispose(); // a Prepared request may be disposed
    });

    [Theory]
    [EachContext]
    public void DisposedRequest_CannotBePreparedOrSubmitted(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        var request = new AioRequest();
        request.PrepareRead(file, 0, new byte[16]);
        request.Dispose();
        Assert.Throws<ObjectDisposedException>(() => request.PrepareRead(file, 0, new byte[16]));
        Assert.Throws<ObjectDisposedException>(() => context.Submit([request]));
    });

    [Theory]
    [EachContext]
    public void Request_IsReusableForManyCycles(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 1024);
        using var request = new AioRequest();
        var buffer = new byte[1024];
        for (int i = 0; i < 200; i++)
        {
            long offset = i % 64 * 1024;
            request.PrepareRead(file, offset, buffer, i);
            Assert.Equal(1, context.Submit([request]));
            Assert.Same(request, WaitForAll(context, 1)[0]);
            Assert.Equal(1024, request.BytesTransferred);
            Assert.Equal(i, request.UserState);
            AssertPattern(buffer, offset);
        }
    });

    [Theory]
    [EachContext]
    public void FailedPrepare_KeepsThePreviousPreparation(string engine) => Run(engine, () =>
    {
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096);
        using var request = new AioRequest();
        var buffer = new byte[100];
        request.PrepareRead(file, 100, buffer, "kept");

        Assert.Throws<ArgumentException>(() => request.PrepareRead(file, 0, Array.Empty<byte>(), "lost"));
        Assert.Throws<ArgumentException>(() => request.PrepareRead(file, 0, new Memory<byte>[] { new byte[8], Memory<byte>.Empty }, "lost"));
        Assert.Equal(AioRequestState.Prepared, request.State);
        Assert.Equal("kept", request.UserState);

        context.Submit([request]);
        WaitForAll(context, 1);
        Assert.Equal(100, request.BytesTransferred);
        AssertPattern(buffer, 100);
    });

    [Theory]
    [EachContext]
    public void Result_IsFailedWithErrnoAndMessage_WhenTheKernelRefusesTheOperation(string engine) => Run(engine, () =>
    {
        // A write through a read-only descriptor: the kernel answers EBADF.
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(4096, access: FileAccess.Read);
        using var request = new AioRequest();
        request.PrepareWrite(file, 0, new byte[16]);
        // SPEC §2: a host that refuses it at submit time (Linux AIO) completes it there, uncounted; one that reports
        // such errors as completions (io_uring, the thread pool) hands it to Wait. Either way its State says which.
        if (context.Submit([request]) == 1)
        {
            Assert.Contains(request, WaitForAll(context, 1));
        }
        else
        {
            Assert.Equal(AioEngineKind.LinuxAio, EngineKind);
            Assert.Equal(0, context.Outstanding);
        }

        Assert.Equal(AioRequestState.Completed, request.State);
        Assert.Equal(AioStatus.Failed, request.Status);
        Assert.Equal(9, request.ErrorCode); // EBADF
        Assert.False(string.IsNullOrWhiteSpace(request.ErrorMessage));
        Assert.Equal(0, request.BytesTransferred);
    });
}
