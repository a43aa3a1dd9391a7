using FileAio.Engines.LinuxAio;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Engines;

/// <summary>Tests that change or count machine-wide Linux AIO state (fs.aio-max-nr, fs.aio-nr, the process's fds
/// and mappings), so they run alone: no other test may create a context meanwhile.</summary>
[CollectionDefinition(nameof(LinuxAioMachineTests), DisableParallelization = true)]
public sealed class LinuxAioMachineCollection;

[Collection(nameof(LinuxAioMachineTests))]
public sealed class LinuxAioMachineTests : FileAioTest
{
    private const string AioMaxNr = "/proc/sys/fs/aio-max-nr";
    private const string AioNr = "/proc/sys/fs/aio-nr";

    public LinuxAioMachineTests()
    {
        Assert.SkipUnless(LinuxAioProbe.Current.IsSupported, $"Linux AIO cannot run here: {LinuxAioProbe.Current.Reason}");
    }

    // The issue: io_setup failing with EAGAIN (the machine's budget, fs.aio-max-nr, used up) is a clear error naming
    // the cause; once the budget is back, contexts work again.
    [Fact]
    public void Create_WithTheMachinesAioBudgetUsedUp_FailsNamingAioMaxNr_AndWorksOnceItIsRaised()
    {
        Require.Root();
        string saved = File.ReadAllText(AioMaxNr).Trim();
        try
        {
            File.WriteAllText(AioMaxNr, File.ReadAllText(AioNr).Trim());
            var refused = Assert.ThrowsAny<Exception>(() =>
                AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.LinuxAio }).Dispose());
            Assert.True(refused is NotSupportedException or IOException, $"{refused.GetType().Name}: {refused.Message}");
            Assert.Contains("fs.aio-max-nr", refused.Message, StringComparison.Ordinal);
            Assert.Contains("EAGAIN", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.WriteAllText(AioMaxNr, saved);
        }
        using var context = AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.LinuxAio });
        Assert.Equal(AioEngineKind.LinuxAio, context.Engine);
    }

    // SPEC §1: "unlimited" is the engine's real maximum, never rejected — with another context open too — and one
    // context never takes the whole machine's budget, which every process shares.
    [Fact]
    public void Create_Unlimited_WithAnotherContextOpen_IsAccepted_AndLeavesBudgetForOthers()
    {
        using var first = AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.LinuxAio });
        using var unlimited = AioContext.Create(AioContext.UnlimitedCapacity, new AioContextOptions { Engine = AioEngineKind.LinuxAio });
        Assert.Equal(AioEngineKind.LinuxAio, unlimited.Engine);
        Assert.InRange(unlimited.Capacity, 1, LinuxAioEngine.MaxOutstanding);
        Assert.Equal(0, LinuxAioQueue.TryCreate(1, out LinuxAioQueue? other, out string? failedStep));
        other!.Dispose();
        Assert.Null(failedStep);
    }

    // The issue: 1,000 create/dispose cycles leak no fd, no aio ring mapping and no share of the machine's budget.
    // io_destroy waits for an RCU grace period (~35 ms here), so eight threads run the cycles side by side.
    [Fact]
    public void CreateAndDispose_1000Times_FromEightThreads_LeavesNoFdNoRingMappingAndNoBudgetBehind()
    {
        Require.Linux();
        using (AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.LinuxAio }))
        {
            // Warm up: the first context loads what stays loaded (code, the probe's answer).
        }
        int fdsBefore = System.IO.Directory.GetFiles("/proc/self/fd").Length;
        int eventFdsBefore = EventFds();
        int ringsBefore = AioRingMappings();
        long budgetBefore = long.Parse(File.ReadAllText(AioNr).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        Parallel.For(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var context = AioContext.Create(i % 3 == 0 ? 1 : 64, new AioContextOptions { Engine = AioEngineKind.LinuxAio });
            Assert.Equal(AioEngineKind.LinuxAio, context.Engine);
            if (i % 10 == 0)
            {
                context.Wakeup(); // the eventfd is used, not only created
                Assert.Equal(AioWaitReason.Interrupted, context.Wait(1, TimeSpan.Zero, new AioRequest[1]).Reason);
            }
        });

        // The runtime opens and closes descriptors of its own meanwhile (a thread pool growing), so the total may move
        // by a few; a context's own descriptor is an eventfd, and those must be exactly as many as before.
        int fdsAfter = System.IO.Directory.GetFiles("/proc/self/fd").Length;
        Assert.True(fdsAfter < fdsBefore + 100, $"{fdsAfter - fdsBefore} more fds after 1,000 contexts than before ({fdsBefore}).");
        Assert.Equal(eventFdsBefore, EventFds());
        Assert.Equal(ringsBefore, AioRingMappings());
        // fs.aio-nr is the machine's: other processes (another test assembly running beside this one) move it too. A
        // share this process kept would show as more than before with no other process holding a ring.
        long budgetAfter = long.Parse(File.ReadAllText(AioNr).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(budgetAfter <= budgetBefore || OtherProcessesHoldAioRings(),
            $"fs.aio-nr went from {budgetBefore} to {budgetAfter}, and no other process holds a Linux AIO ring.");
    }

    /// <summary>Whether a process other than this one has a Linux AIO ring mapped (a context of its own).</summary>
    private static bool OtherProcessesHoldAioRings()
    {
        foreach (string dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            string name = Path.GetFileName(dir);
            if (!int.TryParse(name, out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                if (File.ReadLines(Path.Combine(dir, "maps")).Any(line => line.Contains("[aio]", StringComparison.Ordinal)))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended meanwhile, or its maps are not ours to read
            }
        }
        return false;
    }

    /// <summary>Open eventfds of this process (a Linux AIO context's doorbell is one).</summary>
    internal static int EventFds() => System.IO.Directory.GetFiles("/proc/self/fd").Count(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget == "anon_inode:[eventfd]";
        }
        catch (IOException)
        {
            return false; // closed while we looked
        }
    });

    /// <summary>The kernel maps each context's completion ring into the process as "/[aio] (deleted)".</summary>
    private static int AioRingMappings() => File.ReadLines("/proc/self/maps").Count(line => line.Contains("[aio]", StringComparison.Ordinal));
}
