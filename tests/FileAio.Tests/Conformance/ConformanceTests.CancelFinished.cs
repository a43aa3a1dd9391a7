using System.Diagnostics;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Conformance;

// SPEC §3: cancel of a request the kernel has finished but Wait has not reaped yet.
public sealed partial class ConformanceTests
{
    // SPEC §3: "already finished in the kernel but not yet reaped → AlreadyCompleted (Wait will report it)".
    [Theory]
    [EachContext]
    public void Cancel_FinishedInTheKernelButNotReaped_ReturnsAlreadyCompleted_AndWaitReportsItOnce(string engine) => Run(engine, () =>
    {
        const long Offset = 8192;
        AioContext context = NewContext();
        SafeFileHandle file = OpenPatternFile(64 * 1024);
        byte[] expected = new byte[4096];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = PatternByte(Offset + i);
        }
        byte[] buffer = Enumerable.Repeat((byte)0xEE, 4096).ToArray();
        AioRequest read = Own(new AioRequest());
        read.PrepareRead(file, Offset, buffer, "read");
        Assert.Equal(1, context.Submit([read]));

        // The kernel has done the read once its bytes are in the buffer (a page-cached read: at once). No Wait yet.
        var clock = Stopwatch.StartNew();
        while (!buffer.AsSpan().SequenceEqual(expected))
        {
            Assert.True(clock.Elapsed < LongTimeout, "The read's bytes never reached the buffer.");
            Thread.Yield();
        }

        // Cancel may still find the engine finishing it (InProgress), but must come to AlreadyCompleted: the request is
        // done, so it can be neither cancelled nor left "running".
        clock.Restart();
        var answers = new Dictionary<AioCancelResult, int>();
        while (true)
        {
            AioCancelResult answer = read.Cancel();
            answers[answer] = answers.GetValueOrDefault(answer) + 1;
            Assert.True(answer is AioCancelResult.InProgress or AioCancelResult.AlreadyCompleted,
                $"Cancel of a read whose bytes are in its buffer answered {answer} (answers so far: {Describe(answers)}).");
            if (answer == AioCancelResult.AlreadyCompleted)
            {
                break;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                Assert.Fail($"Cancel of a read that the kernel finished (its bytes are in the buffer) but Wait has not reaped " +
                    $"never answered AlreadyCompleted within 5 s: {Describe(answers)}.");
            }
            Thread.Yield();
        }
        Assert.Equal(AioRequestState.Submitted, read.State); // still Wait's to report
        Assert.Equal(1, context.Outstanding);

        var done = new AioRequest[4];
        AioWaitResult result = context.Wait(1, LongTimeout, done);
        Assert.Equal(1, result.Count);
        Assert.Same(read, done[0]);
        Assert.Equal((AioStatus.Success, 4096L), (read.Status, read.BytesTransferred));
        Assert.Equal(expected, buffer);
        Assert.Equal(AioWaitReason.NoRequests, context.Wait(1, TimeSpan.Zero, done).Reason); // reported exactly once
        Assert.Equal(0, context.Outstanding);
        Assert.Equal(AioCancelResult.NotSubmitted, read.Cancel());
    });

    private static string Describe(Dictionary<AioCancelResult, int> answers) =>
        string.Join(", ", answers.Select(a => $"{a.Key} ×{a.Value}"));
}
