using FileAio.Buffers;
using FileAio.Engines.LinuxAio;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>What is particular to Linux AIO: partial io_submit, what io_cancel can do on a regular file, and Auto
/// falling back to it when a seccomp filter refuses io_uring. The machine-wide checks (aio-max-nr, leaks) are in
/// <see cref="LinuxAioMachineTests"/>, which runs alone.</summary>
public sealed class LinuxAioEngineTests : FileAioTest
{
    private const int Block = 4096;

    public LinuxAioEngineTests()
    {
        Assert.SkipUnless(LinuxAioProbe.Current.IsSupported, $"Linux AIO cannot run here: {LinuxAioProbe.Current.Reason}");
    }

    private AioContext NewContext(int capacity = 64) =>
        Own(AioContext.Create(capacity, new AioContextOptions { Engine = AioEngineKind.LinuxAio }));

    // SPEC §2: a batch the kernel takes in part is "accepted N": the one it refused is Completed with its error, the
    // rest are Prepared again, and nothing is half-submitted.
    [Fact]
    public void Submit_WithAnIocbTheKernelRefusesInTheMiddle_AcceptsThoseBefore_FailsThatOne_AndLeavesTheRestPrepared()
    {
        AioContext context = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("data.bin", 16 * Block), direct: true);
        // A directory has no read_iter: io_submit refuses its iocb with EINVAL.
        int dirFd = TestNative.open(Directory, TestNative.O_RDONLY | TestNative.O_DIRECTORY | TestNative.O_CLOEXEC);
        Assert.True(dirFd >= 0, "cannot open the test directory");
        SafeFileHandle directory = Own(new SafeFileHandle(dirFd, ownsHandle: true));
        AlignedBuffer[] buffers = [Own(new AlignedBuffer(Block)), Own(new AlignedBuffer(Block)), Own(new AlignedBuffer(Block))];
        AioRequest[] batch = [Own(new AioRequest()), Own(new AioRequest()), Own(new AioRequest())];
        batch[0].PrepareRead(file, 0, buffers[0].Memory);
        batch[1].PrepareRead(directory, 0, buffers[1].Memory);
        batch[2].PrepareRead(file, Block, buffers[2].Memory);

        Assert.Equal(1, context.Submit(batch));

        Assert.Equal(AioRequestState.Completed, batch[1].State);
        Assert.Equal(AioStatus.Failed, batch[1].Status);
        Assert.Equal(22, batch[1].ErrorCode); // EINVAL
        Assert.Equal(AioRequestState.Prepared, batch[2].State);
        Assert.Equal(1, context.Outstanding);
        var done = new AioRequest[4];
        AioWaitResult result = context.Wait(1, LongTimeout, done);
        Assert.Equal(1, result.Count);
        Assert.Same(batch[0], done[0]);
        Assert.Equal(Block, batch[0].BytesTransferred);
        Assert.Equal(AioWaitReason.NoRequests, context.Wait(1, TimeSpan.Zero, done).Reason);

        Assert.Equal(1, context.Submit(batch.AsSpan(2)));
        Assert.Same(batch[2], context.Wait(1, LongTimeout, done).Count == 1 ? done[0] : null);
        Assert.True(buffers[2].GetSpan().SequenceEqual(Expected(Block, Block)));
    }

    // SPEC §3 on a regular O_DIRECT file: the kernel's io_cancel cannot stop a read at the device, so Cancel answers
    // InProgress (or AlreadyCompleted), never Canceled; Wait then reports every read once, with the file's bytes.
    [Fact]
    public void Cancel_OfDirectReads_AnswersInProgressOrAlreadyCompleted_AndWaitReportsEachOnceWithItsBytes()
    {
        const int Count = 32;
        AioContext context = NewContext(Count);
        SafeFileHandle file = Open(CreatePatternFile("data.bin", 256 * Block), direct: true);
        var buffers = Enumerable.Range(0, Count).Select(_ => Own(new AlignedBuffer(Block))).ToArray();
        var requests = Enumerable.Range(0, Count).Select(_ => Own(new AioRequest())).ToArray();
        var done = new AioRequest[Count];
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < Count; i++)
            {
                requests[i].PrepareRead(file, (i * 7 + round) % 256 * (long)Block, buffers[i].Memory, i);
            }
            Assert.Equal(Count, context.Submit(requests));
            foreach (AioRequest request in requests)
            {
                AioCancelResult answer = request.Cancel();
                Assert.True(answer is AioCancelResult.InProgress or AioCancelResult.AlreadyCompleted,
                    $"round {round}: Cancel of an O_DIRECT read answered {answer}.");
            }
            var seen = new HashSet<AioRequest>();
            while (seen.Count < Count)
            {
                AioWaitResult result = context.Wait(1, LongTimeout, done);
                Assert.True(result.Count > 0, $"round {round}: Wait ended {result.Reason} with {context.Outstanding} outstanding.");
                foreach (AioRequest request in done.AsSpan(0, result.Count))
                {
                    Assert.True(seen.Add(request), $"round {round}: a read was reported twice.");
                    int i = (int)request.UserState!;
                    Assert.Equal(AioStatus.Success, request.Status);
                    Assert.True(buffers[i].GetSpan().SequenceEqual(Expected((i * 7 + round) % 256 * (long)Block, Block)),
                        $"round {round}: read {i} holds other bytes than the file's.");
                }
            }
        }
    }

    // The container case: a real seccomp filter (installed by a child process on itself, as Docker's default
    // profile does) makes io_uring_setup fail with EPERM; Auto must then run an O_DIRECT file on Linux AIO, say why
    // io_uring was passed over, and read the file's bytes; a buffered file goes to the thread pool, with both reasons.
    [Fact]
    public async Task Auto_UnderASeccompFilterThatRefusesIoUring_PicksLinuxAioForDirectFiles_AndSaysWhy()
    {
        Require.Linux();
        FreshProcess.Result run = await FreshProcess.RunAsync("auto-under-seccomp", AioEngineKind.Auto);
        Assert.True(run.Passed, run.Describe());
        Assert.Contains("io_uring: io_uring_setup was refused (EPERM)", run.Output, StringComparison.Ordinal);
        Assert.Contains("O_DIRECT file: LinuxAio, reads verified", run.Output, StringComparison.Ordinal);
    }

    private static byte[] Expected(long offset, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = PatternByte(offset + i);
        }
        return bytes;
    }
}
