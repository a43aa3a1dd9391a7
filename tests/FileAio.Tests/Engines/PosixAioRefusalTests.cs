using FileAio.Engines;
using FileAio.Engines.PosixAio;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Engines;

/// <summary>
/// A batch the C library queues only in part (the engine's remark 4), on the real glibc platform. glibc refuses an entry
/// of a <c>lio_listio</c> only when a helper thread cannot start or its request pool cannot grow, which a test cannot
/// bring about on demand; so a wrapper over the real platform refuses the entries a test names — they never reach glibc
/// — and queues every other entry for real, in order. What is tested is the engine's answer: on glibc a queued entry
/// cannot be taken back, so every entry up to the last queued one is accepted, and a refused one among them is queued
/// again alone or completes with its error; what follows the last queued entry is not accepted.
/// </summary>
public sealed class PosixAioRefusalTests : FileAioTest
{
    private const int EAGAIN = 11, ENOSYS = 38;

    public PosixAioRefusalTests()
    {
        AioLimits limits = AioContext.GetLimits(AioEngineKind.PosixAio);
        Assert.SkipWhen(!OperatingSystem.IsLinux() || !limits.IsSupported, $"PosixAio on glibc cannot run here: {limits.UnsupportedReason}");
    }

    private (AioContext Context, RefusingPlatform Platform) NewContext()
    {
        const int Capacity = 64;
        Assert.Equal(0, PosixAioProbe.TryCreatePlatform(Capacity, out IPosixAioPlatform? real));
        var wrapper = new RefusingPlatform(real!);
        AioContext context = Own(AioContext.CreateOverEngine(new PosixAioEngine(wrapper, Capacity), AioEngineKind.PosixAio, Capacity));
        return (context, wrapper);
    }

    private (AioRequest[] Requests, byte[][] Buffers) PrepareReads(SafeFileHandle file, int count)
    {
        var requests = new AioRequest[count];
        var buffers = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            requests[i] = Own(new AioRequest());
            buffers[i] = new byte[4096];
            requests[i].PrepareRead(file, i * 4096L, buffers[i], i);
        }
        return (requests, buffers);
    }

    private static void AssertRead(AioRequest request, byte[] buffer, long offset)
    {
        Assert.Equal(AioStatus.Success, request.Status);
        Assert.Equal(4096, request.BytesTransferred);
        for (int i = 0; i < buffer.Length; i++)
        {
            if (buffer[i] != PatternByte(offset + i))
            {
                Assert.Fail($"byte {offset + i} is {buffer[i]}, not {PatternByte(offset + i)}");
            }
        }
    }

    [Fact]
    public void RefusedInTheMiddle_QueuedAgainAlone_AllAccepted_AllRead()
    {
        (AioContext context, RefusingPlatform platform) = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        (AioRequest[] batch, byte[][] buffers) = PrepareReads(file, 8);
        platform.RefuseInList(3, EAGAIN);

        Assert.Equal(8, context.Submit(batch));
        Assert.Equal(1, platform.SubmitOneCalls); // the refused entry, alone
        PosixAioEngineTests.WaitAll(context, 8);
        for (int i = 0; i < 8; i++)
        {
            AssertRead(batch[i], buffers[i], i * 4096L);
        }
        Assert.Equal(0, context.Outstanding);
    }

    [Fact]
    public void RefusedInTheMiddle_AndAgainAlone_CompletesWithItsError_OthersRead()
    {
        (AioContext context, RefusingPlatform platform) = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        (AioRequest[] batch, byte[][] buffers) = PrepareReads(file, 8);
        platform.RefuseInList(2, EAGAIN);
        platform.RefuseInList(5, EAGAIN);
        platform.RefuseAlone(EAGAIN);

        // Entries after them were queued and cannot be taken back: all eight are accepted, the two fail.
        Assert.Equal(8, context.Submit(batch));
        var reaped = PosixAioEngineTests.WaitAll(context, 8);
        Assert.Equal(8, reaped.Distinct().Count());
        for (int i = 0; i < 8; i++)
        {
            if (i is 2 or 5)
            {
                Assert.Equal(AioStatus.Failed, batch[i].Status);
                Assert.Equal(EAGAIN, batch[i].ErrorCode);
            }
            else
            {
                AssertRead(batch[i], buffers[i], i * 4096L);
            }
        }
        Assert.Equal(0, context.Outstanding);
    }

    [Fact]
    public void RefusedFromSomeEntryToTheEnd_Transient_TheRestStayPrepared_AndGoLater()
    {
        (AioContext context, RefusingPlatform platform) = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        (AioRequest[] batch, byte[][] buffers) = PrepareReads(file, 8);
        for (int i = 5; i < 8; i++)
        {
            platform.RefuseInList(i, EAGAIN);
        }

        Assert.Equal(5, context.Submit(batch)); // "not now": no error, the caller submits the rest again
        Assert.Equal(0, platform.SubmitOneCalls);
        for (int i = 5; i < 8; i++)
        {
            Assert.Equal(AioRequestState.Prepared, batch[i].State);
        }
        PosixAioEngineTests.WaitAll(context, 5);

        platform.RefuseNothing();
        Assert.Equal(3, context.Submit(batch.AsSpan(5)));
        PosixAioEngineTests.WaitAll(context, 3);
        for (int i = 0; i < 8; i++)
        {
            AssertRead(batch[i], buffers[i], i * 4096L);
        }
    }

    [Fact]
    public void RefusedFromSomeEntryToTheEnd_Lasting_TheFirstRefusedFails_TheRestStayPrepared()
    {
        (AioContext context, RefusingPlatform platform) = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        (AioRequest[] batch, byte[][] buffers) = PrepareReads(file, 6);
        for (int i = 2; i < 6; i++)
        {
            platform.RefuseInList(i, ENOSYS);
        }

        Assert.Equal(2, context.Submit(batch));
        Assert.Equal(AioRequestState.Completed, batch[2].State); // SPEC §2: the refused one carries the error
        Assert.Equal(AioStatus.Failed, batch[2].Status);
        Assert.Equal(ENOSYS, batch[2].ErrorCode);
        for (int i = 3; i < 6; i++)
        {
            Assert.Equal(AioRequestState.Prepared, batch[i].State);
        }
        PosixAioEngineTests.WaitAll(context, 2);
        AssertRead(batch[0], buffers[0], 0);
        AssertRead(batch[1], buffers[1], 4096);
        Assert.Equal(0, context.Outstanding);
    }

    [Fact]
    public void EveryEntryRefused_NothingAccepted_NothingLeftInTheEngine()
    {
        (AioContext context, RefusingPlatform platform) = NewContext();
        SafeFileHandle file = Open(CreatePatternFile("f.bin", 1 << 16));
        (AioRequest[] batch, _) = PrepareReads(file, 4);
        for (int i = 0; i < 4; i++)
        {
            platform.RefuseInList(i, EAGAIN);
        }

        Assert.Equal(0, context.Submit(batch));
        Assert.All(batch, r => Assert.Equal(AioRequestState.Prepared, r.State));
        Assert.Equal(0, context.Outstanding);
        AioWaitResult result = context.Wait(0, TimeSpan.FromMilliseconds(20), new AioRequest[4]);
        Assert.Equal(0, result.Count);
    }

    /// <summary>The real platform, but entries a test names (by their place in the next batches) are refused with a
    /// chosen errno before they reach the library, and a block queued alone may be refused too.</summary>
    private sealed class RefusingPlatform(IPosixAioPlatform inner) : IPosixAioPlatform
    {
        private readonly Dictionary<int, int> _refuseInList = [];
        private int _refuseAlone;

        public int SubmitOneCalls { get; private set; }

        public void RefuseInList(int entry, int errno) => _refuseInList[entry] = errno;

        public void RefuseAlone(int errno) => _refuseAlone = errno;

        public void RefuseNothing()
        {
            _refuseInList.Clear();
            _refuseAlone = 0;
        }

        public string Name => inner.Name;

        public int MaxBatch => inner.MaxBatch;

        public int ErrnoCanceled => inner.ErrnoCanceled;

        public bool IsTransient(int errno) => inner.IsTransient(errno);

        public void Prepare(int slot, IoOperation operation, ulong tag) => inner.Prepare(slot, operation, tag);

        public void SubmitList(ReadOnlySpan<int> slots, Span<int> errors)
        {
            // The entries not refused go to the library as one list, in their order.
            var passed = new List<int>();
            for (int i = 0; i < slots.Length; i++)
            {
                if (_refuseInList.TryGetValue(i, out int errno))
                {
                    errors[i] = errno;
                }
                else
                {
                    passed.Add(i);
                }
            }
            int[] passedSlots = new int[passed.Count];
            for (int k = 0; k < passed.Count; k++)
            {
                passedSlots[k] = slots[passed[k]];
            }
            int[] passedErrors = new int[passedSlots.Length];
            if (passedSlots.Length > 0)
            {
                inner.SubmitList(passedSlots, passedErrors);
            }
            for (int k = 0; k < passed.Count; k++)
            {
                errors[passed[k]] = passedErrors[k];
            }
        }

        public int SubmitOne(int slot, OperationKind kind, bool dataOnly)
        {
            SubmitOneCalls++;
            return _refuseAlone != 0 && kind != OperationKind.Flush ? _refuseAlone : inner.SubmitOne(slot, kind, dataOnly);
        }

        public bool TakeBack(int slot, int fd) => inner.TakeBack(slot, fd);

        public void Arm(int slot) => inner.Arm(slot);

        public PosixAioCancelAnswer Cancel(int slot, int fd) => inner.Cancel(slot, fd);

        public int Collect(Span<PosixAioFinished> into) => inner.Collect(into);

        public void BeginSleep() => inner.BeginSleep();

        public void Sleep(Deadline deadline, int wanted) => inner.Sleep(deadline, wanted);

        public void EndSleep() => inner.EndSleep();

        public void Kick() => inner.Kick();

        public void Dispose() => inner.Dispose();
    }
}
