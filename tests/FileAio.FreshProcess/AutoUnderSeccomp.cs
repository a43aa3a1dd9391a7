using FileAio.Buffers;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.FreshProcess;

/// <summary>
/// Issue: Auto under a container's seccomp profile. With io_uring_setup refused (EPERM) by a real filter, Auto must
/// pick Linux AIO for an O_DIRECT file, say why io_uring was passed over, and read correct bytes; a buffered file
/// goes to the thread pool, with both reasons.
/// </summary>
internal static class AutoUnderSeccomp
{
    private const int Block = 4096;
    private const int FileLength = 256 * Block;

    public static async Task Run(Scenario scenario)
    {
        string path = scenario.CreatePatternFile("pattern.bin", FileLength);
        Seccomp.DenyIoUringSetupForTheProcess();
        int errno = Seccomp.ProbeIoUringSetup();
        Scenario.Check(errno == 1, $"after the filter, io_uring_setup failed with errno {errno}, not EPERM (1).");

        AioLimits ioUring = AioContext.GetLimits(AioEngineKind.IoUring);
        Scenario.Check(!ioUring.IsSupported && ioUring.UnsupportedReason!.Contains("EPERM", StringComparison.Ordinal),
            $"io_uring's limits under the filter: supported {ioUring.IsSupported}, reason '{ioUring.UnsupportedReason}'.");
        Scenario.Info($"io_uring: {ioUring.UnsupportedReason}");

        using (var context = AioContext.Create(32))
        {
            Scenario.Check(context.Engine == AioEngineKind.LinuxAio, $"Auto picked {context.Engine}, not LinuxAio.");
            CheckPassedOver(context.PassedOverEngines, "the context", AioEngineKind.IoUring);
            using SafeFileHandle direct = AioFile.OpenHandle(path, FileMode.Open, FileAccess.Read, direct: true);
            ReadAndVerify(context, direct);
            Scenario.Info($"context: {context.Engine}, reads verified");
        }

        using (AioEngineHost host = AioEngineHost.Create(threads: 1))
        {
            Scenario.Check(host.Engine == AioEngineKind.LinuxAio, $"an Auto host runs {host.Engine}, not LinuxAio.");
            await using (AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.Read, new AioFileOptions { Direct = true }))
            {
                Scenario.Check(file.Engine == AioEngineKind.LinuxAio, $"an O_DIRECT AioFile under Auto runs on {file.Engine}, not LinuxAio.");
                CheckPassedOver(file.PassedOverEngines, "the O_DIRECT file", AioEngineKind.IoUring);
                using var buffer = new AlignedBuffer(Block);
                for (int i = 0; i < 64; i++)
                {
                    long offset = (i * 37 % 256) * (long)Block;
                    int read = await file.ReadAsync(buffer.Memory, offset);
                    Scenario.Check(read == Block && Matches(buffer.GetSpan(), offset), $"AioFile read at {offset}: {read} bytes, or wrong bytes.");
                }
                Scenario.Info($"O_DIRECT file: {file.Engine}, reads verified");
            }
            await using (AioFile buffered = AioFile.Open(path, FileMode.Open, FileAccess.Read))
            {
                Scenario.Check(buffered.Engine == AioEngineKind.ThreadPool, $"a buffered AioFile under Auto runs on {buffered.Engine}, not ThreadPool.");
                CheckPassedOver(buffered.PassedOverEngines, "the buffered file", AioEngineKind.IoUring, AioEngineKind.LinuxAio);
                var bytes = new byte[Block];
                int read = await buffered.ReadAsync(bytes, 5 * Block);
                Scenario.Check(read == Block && Matches(bytes, 5 * Block), "the buffered file read wrong bytes.");
                Scenario.Info($"buffered file: {buffered.Engine}, passed over: {string.Join("; ", buffered.PassedOverEngines.Select(p => $"{p.Engine}: {p.UnsupportedReason}"))}");
            }
        }
    }

    private static void CheckPassedOver(IReadOnlyList<AioLimits> passedOver, string what, params AioEngineKind[] expected)
    {
        Scenario.Check(passedOver.Select(p => p.Engine).SequenceEqual(expected),
            $"{what} lists as passed over [{string.Join(", ", passedOver.Select(p => p.Engine))}], not [{string.Join(", ", expected)}].");
        Scenario.Check(passedOver.All(p => !string.IsNullOrEmpty(p.UnsupportedReason)), $"{what}: a passed-over engine has no reason.");
    }

    /// <summary>Reads 64 blocks at scattered offsets, 16 at a time, and checks every byte.</summary>
    private static void ReadAndVerify(AioContext context, SafeFileHandle file)
    {
        var buffers = Enumerable.Range(0, 16).Select(_ => new AlignedBuffer(Block)).ToArray();
        var requests = Enumerable.Range(0, 16).Select(_ => new AioRequest()).ToArray();
        var done = new AioRequest[16];
        try
        {
            for (int wave = 0; wave < 4; wave++)
            {
                for (int i = 0; i < 16; i++)
                {
                    requests[i].PrepareRead(file, ((wave * 16 + i) * 53 % 256) * (long)Block, buffers[i].Memory, i);
                }
                Scenario.Check(context.Submit(requests) == 16, "the context did not accept a batch of 16 reads.");
                int collected = 0;
                while (collected < 16)
                {
                    AioWaitResult result = context.Wait(1, Scenario.Bound, done);
                    Scenario.Check(result.Count > 0, $"Wait ended {result.Reason} with nothing; {context.Outstanding} outstanding.");
                    if (result.Count == 0)
                    {
                        throw Scenario.Stop("the reads did not complete.");
                    }
                    for (int j = 0; j < result.Count; j++)
                    {
                        AioRequest request = done[j];
                        int index = (int)request.UserState!;
                        long offset = ((wave * 16 + index) * 53 % 256) * (long)Block;
                        Scenario.Check(request.Status == AioStatus.Success && request.BytesTransferred == Block && Matches(buffers[index].GetSpan(), offset),
                            $"context read at {offset}: {request.Status} {request.BytesTransferred} ({request.ErrorMessage}), or wrong bytes.");
                    }
                    collected += result.Count;
                }
            }
        }
        finally
        {
            foreach (AioRequest request in requests)
            {
                request.Dispose();
            }
            foreach (AlignedBuffer buffer in buffers)
            {
                ((IDisposable)buffer).Dispose();
            }
        }
    }

    private static bool Matches(ReadOnlySpan<byte> data, long offset)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != Scenario.PatternByte(offset + i))
            {
                return false;
            }
        }
        return true;
    }
}
