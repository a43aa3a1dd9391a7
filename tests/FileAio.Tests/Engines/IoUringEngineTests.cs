using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FileAio.Engines.IoUring;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>What is particular to io_uring: probing and fallback, ring resources, ordering, and a long verify stress.</summary>
public sealed class IoUringEngineTests : FileAioTest
{
    public IoUringEngineTests()
    {
        Assert.SkipUnless(IoUringProbe.Current.IsSupported, $"io_uring cannot run here: {IoUringProbe.Current.Reason}");
    }

    private AioContext NewContext(int capacity = 64) =>
        Own(AioContext.Create(capacity, new AioContextOptions { Engine = AioEngineKind.IoUring }));

    [Fact]
    public void Probe_FindsTheFeaturesFileAioNeeds_AndAutoPicksIoUring()
    {
        IoUringSupport support = IoUringProbe.Current;
        Assert.True(support.IsSupported);
        Assert.Null(support.Reason);
        uint needed = Interop.IoUringConstants.IORING_FEAT_NODROP | Interop.IoUringConstants.IORING_FEAT_EXT_ARG
            | Interop.IoUringConstants.IORING_FEAT_SUBMIT_STABLE;
        Assert.Equal(needed, support.Features & needed);

        using var context = AioContext.Create(8);
        Assert.Equal(AioEngineKind.IoUring, context.Engine);
    }

    // An owned ring registers its fd with the owning thread; the registration holds the ring file. Dispose must give
    // it up, or the ring, and every file registered with it, outlive the context until that thread exits.
    [Fact]
    public unsafe void Dispose_OfAnOwnedContext_LetsGoOfItsRegisteredFiles_WhileItsThreadLivesOn()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, TestNative.pipe2(fds, TestNative.O_NONBLOCK | TestNative.O_CLOEXEC));
        int readEnd = fds[0];
        try
        {
            var writeEnd = new SafeFileHandle(fds[1], ownsHandle: true);
            var context = AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.IoUring, SingleThreaded = true });
            context.AssociateWithFile(writeEnd);
            context.Dispose();
            writeEnd.Dispose();

            // The kernel tears a ring down asynchronously: the write end closes (EOF on the read end) a moment later.
            byte b;
            nint read = -1;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while ((read = TestNative.read(readEnd, &b, 1)) != 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                Thread.Sleep(10);
            }
            Assert.True(read == 0, $"The pipe's write end, registered with a disposed SingleThreaded context, is still open (read returned {read}).");
        }
        finally
        {
            TestNative.close(readEnd);
        }
    }

    [Fact]
    public void RingThreads_OwnTheirRings_SingleIssuerDeferTaskrunAndARegisteredRingFd()
    {
        using AioEngineHost host = AioEngineHost.Create(AioEngineKind.IoUring, threads: 2);
        Assert.Equal(2, host.ThreadCount);
        foreach (var loop in host.EngineLoops)
        {
            var ring = Assert.IsType<IoUringEngine>(loop.Engine);
            // This kernel (6.18) has both flags (6.0, 6.1) and ring fd registration (5.18); older ones drop them.
            Assert.NotEqual(0u, ring.SetupFlags & Interop.IoUringConstants.IORING_SETUP_SINGLE_ISSUER);
            Assert.NotEqual(0u, ring.SetupFlags & Interop.IoUringConstants.IORING_SETUP_DEFER_TASKRUN);
            Assert.True(ring.UsesRegisteredRingFd);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RegisteredFilesAndBuffers_CarryTheSameData_AsPlainOnes(bool direct)
    {
        AioContext context = NewContext();
        string path = CreatePatternFile("fixed.bin", 1 << 20);
        SafeFileHandle file = Open(path, FileMode.Open, FileAccess.ReadWrite, direct);
        SafeFileHandle unregistered = Open(path, FileMode.Open, FileAccess.Read, direct);
        context.AssociateWithFile(file);
        context.AssociateWithFile(file); // twice is harmless
        using var registered = new FileAio.Buffers.AlignedBuffer(64 * 1024);
        using var plain = new FileAio.Buffers.AlignedBuffer(8192);
        using var other = new FileAio.Buffers.AlignedBuffer(4096);
        context.AssociateWithBuffer(registered.Memory);
        Assert.Throws<ArgumentException>(() => context.AssociateWithBuffer(Memory<byte>.Empty));

        // Reads: inside the registered buffer (fixed), straddling nothing; from a registered and a plain file.
        AioRequest[] reads = Enumerable.Range(0, 4).Select(_ => Own(new AioRequest())).ToArray();
        reads[0].PrepareRead(file, 4096, registered.Memory[..8192]);                 // fixed file, fixed buffer
        reads[1].PrepareRead(file, 65536, registered.Memory.Slice(16384, 4096));     // fixed buffer, inner slice
        reads[2].PrepareRead(unregistered, 8192, plain.Memory);                      // nothing registered
        reads[3].PrepareRead(file, 0, other.Memory);                                  // fixed file, plain buffer
        Assert.Equal(4, context.Submit(reads));
        var output = new AioRequest[4];
        int done = 0;
        while (done < 4)
        {
            done += context.Wait(1, LongTimeout, output.AsSpan(done)).Count;
        }
        Assert.All(reads, r => Assert.Equal(AioStatus.Success, r.Status));
        AssertPatternAt(registered.Memory.Span[..8192], 4096);
        AssertPatternAt(registered.Memory.Span.Slice(16384, 4096), 65536);
        AssertPatternAt(plain.Memory.Span, 8192);
        AssertPatternAt(other.Memory.Span, 0);

        // A write from the registered buffer lands in the file.
        registered.Memory.Span[..4096].Fill(0x77);
        using var write = new AioRequest();
        write.PrepareWrite(file, 12288, registered.Memory[..4096]);
        context.Submit([write]);
        context.Wait(1, LongTimeout, output);
        Assert.Equal(4096, write.BytesTransferred);
        RandomAccess.Read(unregistered, other.Memory.Span, 12288); // aligned: the handle may be O_DIRECT
        Assert.All(other.Memory.ToArray(), b => Assert.Equal(0x77, b));
    }

    private static void AssertPatternAt(ReadOnlySpan<byte> data, long offset)
    {
        for (int i = 0; i < data.Length; i++)
        {
            Assert.True(data[i] == PatternByte(offset + i), $"byte at {offset + i}");
        }
    }

    [Fact]
    public void SetupErrors_EachSayCauseAndRemedy()
    {
        Assert.Contains("EPERM", IoUringProbe.DescribeSetupError(1));
        Assert.Contains("ENOSYS", IoUringProbe.DescribeSetupError(38));
        Assert.Contains("RLIMIT_MEMLOCK", IoUringProbe.DescribeSetupError(12));
        Assert.Contains("EINVAL", IoUringProbe.DescribeSetupError(22));
    }

    [Fact]
    public void BlockedBySeccomp_AutoFallsBackToTheNextEngine_AndSaysWhy()
    {
        Require.Linux();
        Require.Root(); // a filter without no_new_privs needs CAP_SYS_ADMIN
        AioEngineKind engine = AioEngineKind.Auto;
        string? reason = null;
        Exception? failure = null;

        // A seccomp filter applies to the thread that installs it (no TSYNC) and dies with it: a real block of
        // io_uring_setup, confined to this one thread.
        var blocked = new Thread(() =>
        {
            try
            {
                Seccomp.DenyIoUringSetupOnThisThread();
                IoUringProbe.ResetCache();
                using var context = AioContext.Create(8);
                engine = context.Engine;
                reason = AioContext.GetLimits(AioEngineKind.IoUring).UnsupportedReason;
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                IoUringProbe.ResetCache();
            }
        });
        blocked.Start();
        blocked.Join();
        IoUringProbe.ResetCache(); // probe again from an unfiltered thread for the tests after this one

        Assert.Null(failure);
        // Auto's next engine: Linux AIO where it runs (LinuxAioEngineTests check the rest), else the thread pool.
        Assert.Equal(AioContext.GetLimits(AioEngineKind.LinuxAio).IsSupported ? AioEngineKind.LinuxAio : AioEngineKind.ThreadPool, engine);
        Assert.NotNull(reason);
        Assert.Contains("EPERM", reason);
        Assert.Contains("seccomp", reason);
        Assert.True(AioContext.GetLimits(AioEngineKind.IoUring).IsSupported);
    }

    [Fact]
    public void CreateAndDispose_1000Times_LeavesNoRingDescriptorOrMapping()
    {
        Require.Linux();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 4096));
        (int fds, int maps) before = CountRingResources();
        using var request = new AioRequest();
        for (int i = 0; i < 1000; i++)
        {
            using AioContext context = AioContext.Create(8, new AioContextOptions { Engine = AioEngineKind.IoUring });
            if (i % 10 == 0)
            {
                request.PrepareRead(file, 0, new byte[16]);
                context.Submit([request]);
                context.Wait(1, LongTimeout, new AioRequest[1]);
            }
        }
        Assert.Equal(before, CountRingResources());
    }

    private static (int Fds, int Maps) CountRingResources()
    {
        int fds = 0;
        foreach (string fd in System.IO.Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget?.Contains("io_uring", StringComparison.Ordinal) == true)
                {
                    fds++;
                }
            }
            catch (IOException)
            {
            }
        }
        int maps = File.ReadLines("/proc/self/maps").Count(l => l.Contains("io_uring", StringComparison.Ordinal));
        return (fds, maps);
    }

    [Fact]
    public void Completions_AreReportedInTheOrderTheyHappen_NotTheOrderOfSubmission()
    {
        AioContext context = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 64 * 1024));
        using var hold = new FifoHold(Directory, 1);
        ReleaseFirstAtEnd(hold.Release);
        var held = Own(new AioRequest());
        hold.PrepareRead(held, 0, "held");
        var quick = new AioRequest[10];
        for (int i = 0; i < quick.Length; i++)
        {
            quick[i] = Own(new AioRequest());
            quick[i].PrepareRead(file, i * 4096L, new byte[4096], i);
        }
        context.Submit([held]);
        context.Submit(quick);

        var output = new AioRequest[11];
        int count = 0;
        while (count < 10)
        {
            count += context.Wait(1, LongTimeout, output.AsSpan(count)).Count;
        }
        Assert.DoesNotContain(held, output[..count]);
        hold.Release();
        count += context.Wait(1, LongTimeout, output.AsSpan(count)).Count;
        Assert.Same(held, output[10]);
    }

    [Fact]
    public void Submit_FarMoreThanTheRingsHold_AcceptsWhatFitsAndLosesNothing()
    {
        // Capacity 8: an SQ of 8 and a CQ of 16. Ten thousand requests go through it without a CQ overflow.
        const int Total = 10_000;
        AioContext context = NewContext(capacity: 8);
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1024 * 512));
        var pending = new Queue<AioRequest>();
        for (int i = 0; i < Total; i++)
        {
            var request = new AioRequest();
            request.PrepareRead(file, i % 1024 * 512L, new byte[512], i);
            pending.Enqueue(request);
        }
        var seen = new HashSet<int>();
        var output = new AioRequest[64];
        while (seen.Count < Total)
        {
            if (pending.Count > 0)
            {
                AioRequest[] batch = pending.Take(100).ToArray();
                int accepted = context.Submit(batch);
                Assert.True(accepted <= 8);
                for (int i = 0; i < accepted; i++)
                {
                    pending.Dequeue();
                }
                Assert.All(batch[accepted..], r => Assert.Equal(AioRequestState.Prepared, r.State));
            }
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            for (int i = 0; i < result.Count; i++)
            {
                Assert.Equal(512, output[i].BytesTransferred);
                Assert.True(seen.Add((int)output[i].UserState!));
            }
        }
        Assert.Equal(0, context.Outstanding);
    }

    [Fact]
    public void OwnedTinyRing_WithTheCqOverflowedAndABatchRefused_AWriteSubmittedThenStillCompletes()
    {
        // An owned ring (SINGLE_ISSUER | DEFER_TASKRUN) of 4 SQEs and 8 CQEs under a context of 16: fifteen writes go
        // in four rounds, finish in the kernel, and their completions wait as deferred task work until the first
        // GETEVENTS enter, which posts eight and leaves seven in the kernel's overflow list. A batch refused for a
        // Submitted request changes nothing; the write submitted next, into that state, must complete like the rest.
        File.WriteAllBytes(PathOf("f.bin"), new byte[16 * 4096]); // zeros: each write's byte (1..16) shows it ran
        SafeFileHandle file = Open(PathOf("f.bin"));
        using AioContext context = AioContext.CreateWithSettings(16,
            new AioContextOptions { Engine = AioEngineKind.IoUring, SingleThreaded = true },
            new FileAio.Engines.EngineSettings { SubmissionQueueEntries = 4, CompletionQueueEntries = 8, Owned = true });
        var writes = new AioRequest[16];
        for (int i = 0; i < writes.Length; i++)
        {
            writes[i] = Own(new AioRequest());
            writes[i].PrepareWrite(file, i * 4096L, Enumerable.Repeat((byte)(i + 1), 1000).ToArray(), i);
        }
        Assert.Equal(15, context.Submit(writes[..15]));
        // The bytes in the file say the writes have run (their CQEs are not posted yet: nothing entered with GETEVENTS).
        Assert.True(SpinWait.SpinUntil(() => Enumerable.Range(0, 15).All(i => ReadByte(file, i * 4096L) == i + 1), LongTimeout),
            "The fifteen writes never reached the file.");

        Assert.Throws<InvalidOperationException>(() => context.Submit([writes[15], writes[3]]));
        Assert.Equal(AioRequestState.Prepared, writes[15].State);
        Assert.Equal(1, context.Submit([writes[15]]));

        // One completion per Wait: the CQ is emptied eight times over, the overflow flushed on the way.
        var output = new AioRequest[1];
        var reported = new HashSet<int>();
        while (reported.Count < writes.Length)
        {
            AioWaitResult result = context.Wait(1, LongTimeout, output);
            Assert.True(result.Count == 1, $"A Wait returned {result.Reason} with {result.Count} after {reported.Count} of 16.");
            Assert.Equal(AioStatus.Success, output[0].Status);
            Assert.Equal(1000, output[0].BytesTransferred);
            Assert.True(reported.Add((int)output[0].UserState!));
        }
        Assert.Equal(16, ReadByte(file, 15 * 4096L));
        Assert.Equal(0, context.Outstanding);
    }

    private static byte ReadByte(SafeFileHandle file, long offset)
    {
        Span<byte> one = stackalloc byte[1];
        RandomAccess.Read(file, one, offset);
        return one[0];
    }

    [Fact]
    [Trait("Category", "Stress")]
    public void VerifyStress_1MillionRandomReadsAndWrites_SubmitterAndWaiterThreads_EveryByteChecked()
    {
        const int Operations = 1_000_000;
        const int BlockSize = 16 * 1024, Blocks = 256, MaxTransfer = 4096, InFlight = 128;
        string path = CreatePatternFile("stress.bin", (long)BlockSize * Blocks);
        SafeFileHandle file = Open(path);
        byte[] model = File.ReadAllBytes(path);        // what the file must hold, updated when a write completes
        var busy = new int[Blocks];                    // one operation per block at a time, so the model is exact
        AioContext context = NewContext(capacity: InFlight);

        var slots = new ConcurrentQueue<int>(Enumerable.Range(0, InFlight));
        var requests = new AioRequest[InFlight];
        var buffers = new byte[InFlight][];
        var operations = new (bool Write, int Block, long Offset, int Length)[InFlight];
        for (int i = 0; i < InFlight; i++)
        {
            requests[i] = Own(new AioRequest());
            buffers[i] = new byte[MaxTransfer];
        }
        using var slotFreed = new SemaphoreSlim(0);
        int reaped = 0, bytesChecked = 0;
        string? failure = null;

        var waiter = new Thread(() =>
        {
            var output = new AioRequest[InFlight];
            while (Volatile.Read(ref reaped) < Operations && failure is null)
            {
                AioWaitResult result = context.Wait(1, LongTimeout, output);
                if (result.Count == 0 && result.Reason == AioWaitReason.TimedOut)
                {
                    failure = "no completion for 30 s";
                    break;
                }
                for (int i = 0; i < result.Count; i++)
                {
                    int slot = (int)output[i].UserState!;
                    (bool write, int block, long offset, int length) = operations[slot];
                    if (output[i].Status != AioStatus.Success || output[i].BytesTransferred != length)
                    {
                        failure ??= $"op in slot {slot}: {output[i].Status} {output[i].ErrorMessage}, {output[i].BytesTransferred} of {length} bytes";
                    }
                    else if (write)
                    {
                        buffers[slot].AsSpan(0, length).CopyTo(model.AsSpan((int)offset, length));
                    }
                    else if (!buffers[slot].AsSpan(0, length).SequenceEqual(model.AsSpan((int)offset, length)))
                    {
                        failure ??= $"read of {length} bytes at {offset} differs from what was written there";
                    }
                    else
                    {
                        bytesChecked += length;
                    }
                    Volatile.Write(ref busy[block], 0);
                    slots.Enqueue(slot);
                    Interlocked.Increment(ref reaped);
                    slotFreed.Release();
                }
            }
        }) { Name = "stress waiter" };

        var submitter = new Thread(() =>
        {
            var random = new Random(2026);
            var batch = new AioRequest[32];
            for (int submitted = 0; submitted < Operations && failure is null;)
            {
                int count = 0;
                while (count < batch.Length && submitted + count < Operations && slots.TryDequeue(out int slot))
                {
                    int block = random.Next(Blocks);
                    while (Interlocked.CompareExchange(ref busy[block], 1, 0) != 0)
                    {
                        block = (block + 1) % Blocks;
                    }
                    int length = random.Next(1, MaxTransfer + 1);
                    long offset = (long)block * BlockSize + random.Next(BlockSize - length + 1);
                    bool write = random.Next(2) == 0;
                    operations[slot] = (write, block, offset, length);
                    if (write)
                    {
                        buffers[slot].AsSpan(0, length).Fill((byte)(submitted + count));
                        BitConverter.TryWriteBytes(buffers[slot], submitted + count); // distinct per operation
                        requests[slot].PrepareWrite(file, offset, buffers[slot].AsMemory(0, length), slot);
                    }
                    else
                    {
                        requests[slot].PrepareRead(file, offset, buffers[slot].AsMemory(0, length), slot);
                    }
                    batch[count++] = requests[slot];
                }
                if (count == 0)
                {
                    slotFreed.Wait(100);
                    continue;
                }
                ReadOnlySpan<AioRequest> toSubmit = batch.AsSpan(0, count);
                while (!toSubmit.IsEmpty)
                {
                    toSubmit = toSubmit[context.Submit(toSubmit)..];
                }
                submitted += count;
            }
        }) { Name = "stress submitter" };

        waiter.Start();
        submitter.Start();
        Assert.True(submitter.Join(TimeSpan.FromMinutes(5)), "The submitter did not finish.");
        Assert.True(waiter.Join(TimeSpan.FromMinutes(5)), "The waiter did not finish.");

        Assert.Null(failure);
        Assert.Equal(Operations, reaped);
        Assert.True(bytesChecked > 0);
        // And the file itself holds exactly the model.
        Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(model), "The file differs from the model.");
    }
}
