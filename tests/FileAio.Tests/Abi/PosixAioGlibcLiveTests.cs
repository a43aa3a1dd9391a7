using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using FileAio.Interop;
using FileAio.Interop.PosixAio;
using FileAio.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Abi;

/// <summary>
/// Runs the glibc declarations against glibc: writes, reads, a list of reads, a data sync and a cancel through
/// <see cref="GlibcAio"/>, with aiocbs and buffers in native memory (glibc's helper threads write into the aiocb, so
/// it must not move). Completion is observed by polling <c>aio_error</c>, waiting in <c>aio_suspend</c> between polls,
/// with a bound. Bytes written at a non-zero offset are checked through another path (<see cref="RandomAccess"/>),
/// so a field at a wrong offset would show here even if the layout tests had the same mistake.
/// </summary>
[SupportedOSPlatform("linux")] // each test first skips where glibc is missing (Linux with another C library)
public sealed unsafe class PosixAioGlibcLiveTests : FileAioTest
{
    private const int Block = 4096;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private static void RequireGlibc() =>
        Assert.SkipUnless(OperatingSystem.IsLinux() && NativeLibrary.TryLoad("librt.so.1", out _),
            "Needs Linux with glibc (librt.so.1).");

    [Fact]
    public void EveryImport_ResolvesInLibrt()
    {
        RequireGlibc();
        nint librt = NativeLibrary.Load("librt.so.1");
        string[] imports = PosixAioImportTests.EntryPoints(typeof(GlibcAio)).ToArray();
        Assert.Equal(9, imports.Length);
        Assert.All(imports, name => Assert.True(NativeLibrary.TryGetExport(librt, name, out _), name + " is not exported"));
    }

    [Fact]
    public void AioWriteThenAioRead_OneBlockAtAnOffset_MovesTheBytes()
    {
        RequireGlibc();
        // The defaults of glibc 2.36 (aio-abi.md §2.5): harmless if another test has already made the pool.
        var init = new GlibcAioInit { Threads = 20, Num = 64, IdleTime = 1 };
        GlibcAio.Init(&init);
        SafeFileHandle file = Own(File.OpenHandle(PathOf("data"), FileMode.CreateNew, FileAccess.ReadWrite));
        int fd = (int)file.DangerousGetHandle();
        using var blocks = new AioBlocks(2);
        Fill(blocks.Buffer(0), seed: 3);

        GlibcAiocb* write = blocks.Prepare(0, fd, offset: Block);
        Assert.Equal(0, GlibcAio.Write(write));
        blocks.Submitted(0);
        Assert.Equal(0, WaitForCompletion(write));
        Assert.Equal(Block, (long)GlibcAio.Return(write));

        // The block landed at byte 4096: aio_offset is where the declaration says.
        Assert.Equal(2 * Block, RandomAccess.GetLength(file));
        var onDisk = new byte[Block];
        Assert.Equal(Block, RandomAccess.Read(file, onDisk, Block));
        Assert.True(onDisk.AsSpan().SequenceEqual(blocks.Buffer(0)));

        GlibcAiocb* read = blocks.Prepare(1, fd, offset: Block);
        Assert.Equal(0, GlibcAio.Read(read));
        blocks.Submitted(1);
        Assert.Equal(0, WaitForCompletion(read));
        Assert.Equal(Block, (long)GlibcAio.Return(read));
        Assert.True(blocks.Buffer(1).SequenceEqual(blocks.Buffer(0)));
    }

    [Fact]
    public void ListIoNoWait_FourReads_EachCompletesWithItsBlock()
    {
        RequireGlibc();
        SafeFileHandle file = Own(File.OpenHandle(CreatePatternFile("data", 4 * Block, seed: 5), FileMode.Open, FileAccess.Read));
        int fd = (int)file.DangerousGetHandle();
        using var blocks = new AioBlocks(4);
        GlibcAiocb** list = stackalloc GlibcAiocb*[4];
        for (int i = 0; i < 4; i++)
        {
            // Entry i reads block 3 - i, so each result must come from its own aiocb's offset.
            list[i] = blocks.Prepare(i, fd, offset: (3 - i) * Block);
            list[i]->LioOpcode = GlibcAioConstants.LIO_READ;
        }

        int listed = GlibcAio.ListIo(GlibcAioConstants.LIO_NOWAIT, list, 4, null);
        for (int i = 0; i < 4; i++)
        {
            blocks.Submitted(i); // even on failure: an entry that was queued must be waited for before it is freed
        }
        Assert.True(listed == 0, $"lio_listio: errno {Marshal.GetLastPInvokeError()}");

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(0, WaitForCompletion(list[i]));
            Assert.Equal(Block, (long)GlibcAio.Return(list[i]));
            long start = (3 - i) * Block;
            byte[] expected = Enumerable.Range(0, Block).Select(b => PatternByte(start + b, seed: 5)).ToArray();
            Assert.True(blocks.Buffer(i).SequenceEqual(expected), $"entry {i} read other bytes than block {3 - i}");
        }
    }

    [Fact]
    public void AioFsyncDsync_AfterAWrite_CompletesWithZero()
    {
        RequireGlibc();
        SafeFileHandle file = Own(File.OpenHandle(PathOf("data"), FileMode.CreateNew, FileAccess.ReadWrite));
        int fd = (int)file.DangerousGetHandle();
        using var blocks = new AioBlocks(2);
        Fill(blocks.Buffer(0), seed: 7);
        GlibcAiocb* write = blocks.Prepare(0, fd, offset: 0);
        Assert.Equal(0, GlibcAio.Write(write));
        blocks.Submitted(0);

        // Queued behind the write on the same descriptor (glibc serialises per fd).
        GlibcAiocb* sync = blocks.Prepare(1, fd, offset: 0);
        Assert.Equal(0, GlibcAio.FSync(GlibcAioConstants.O_DSYNC, sync));
        blocks.Submitted(1);
        Assert.Equal(0, WaitForCompletion(sync));
        Assert.Equal(0, (long)GlibcAio.Return(sync));
        Assert.Equal(0, WaitForCompletion(write));
        Assert.Equal(Block, (long)GlibcAio.Return(write));
    }

    [Fact]
    public void AioFsync_WithAnOpOtherThanSyncOrDsync_FailsWithEinvalInTheLastError()
    {
        RequireGlibc();
        SafeFileHandle file = Own(File.OpenHandle(PathOf("data"), FileMode.CreateNew, FileAccess.ReadWrite));
        using var blocks = new AioBlocks(1);
        GlibcAiocb* sync = blocks.Prepare(0, (int)file.DangerousGetHandle(), offset: 0);
        Assert.Equal(-1, GlibcAio.FSync(0, sync)); // checked before anything is queued
        Assert.Equal(Errno.EINVAL, Marshal.GetLastPInvokeError());
    }

    [Fact]
    public void AioCancel_OfAFinishedRequest_ReturnsAllDone()
    {
        RequireGlibc();
        SafeFileHandle file = Own(File.OpenHandle(CreatePatternFile("data", Block), FileMode.Open, FileAccess.Read));
        int fd = (int)file.DangerousGetHandle();
        using var blocks = new AioBlocks(1);
        GlibcAiocb* read = blocks.Prepare(0, fd, offset: 0);
        Assert.Equal(0, GlibcAio.Read(read));
        blocks.Submitted(0);
        Assert.Equal(0, WaitForCompletion(read));

        Assert.Equal(GlibcAioConstants.AIO_ALLDONE, GlibcAio.Cancel(fd, read));
        Assert.Equal(0, GlibcAio.Error(read)); // unchanged by the cancel
        Assert.Equal(Block, (long)GlibcAio.Return(read));
    }

    [Fact]
    public void AioCancel_NamingAnotherDescriptorThanTheBlocks_FailsWithEinval()
    {
        RequireGlibc();
        SafeFileHandle file = Own(File.OpenHandle(CreatePatternFile("data", Block), FileMode.Open, FileAccess.Read));
        SafeFileHandle other = Own(File.OpenHandle(CreatePatternFile("other", Block), FileMode.Open, FileAccess.Read));
        using var blocks = new AioBlocks(1);
        GlibcAiocb* read = blocks.Prepare(0, (int)file.DangerousGetHandle(), offset: 0);
        Assert.Equal(-1, GlibcAio.Cancel((int)other.DangerousGetHandle(), read));
        Assert.Equal(Errno.EINVAL, Marshal.GetLastPInvokeError());
    }

    /// <summary>Polls <c>aio_error</c> until the request is no longer EINPROGRESS, waiting up to 10 ms at a time in
    /// <c>aio_suspend</c>; fails the test after <see cref="s_bound"/>. Returns the request's errno (0 = success).</summary>
    private static int WaitForCompletion(GlibcAiocb* aiocb)
    {
        var clock = Stopwatch.StartNew();
        Timespec slice = Timespec.FromMilliseconds(10);
        while (true)
        {
            int error = GlibcAio.Error(aiocb);
            if (error != GlibcAioConstants.EINPROGRESS)
            {
                return error;
            }
            Assert.True(clock.Elapsed < s_bound, $"the request was still in progress after {s_bound}");
            // 0: one finished; -1 EAGAIN: the slice passed; -1 EINTR: a signal. Each case polls again.
            GlibcAio.Suspend(&aiocb, 1, &slice);
        }
    }

    private static void Fill(Span<byte> buffer, int seed)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = PatternByte(i, seed);
        }
    }

    /// <summary>
    /// aiocbs and their one-block buffers in native memory. Dispose waits (bounded) for every submitted request to
    /// leave EINPROGRESS before it frees anything: glibc's threads write into the aiocb and the buffer until then.
    /// If one never finishes the memory is leaked on purpose rather than freed under a running helper thread.
    /// Dispose it before the file it reads (the test base disposes what it owns after the test body's usings).
    /// </summary>
    private sealed class AioBlocks : IDisposable
    {
        private readonly GlibcAiocb* _aiocbs;
        private readonly byte* _buffers;
        private readonly bool[] _submitted;

        public AioBlocks(int count)
        {
            _aiocbs = (GlibcAiocb*)NativeMemory.AllocZeroed((nuint)count, (nuint)sizeof(GlibcAiocb));
            _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)(count * Block), Block);
            new Span<byte>(_buffers, count * Block).Clear();
            _submitted = new bool[count];
        }

        public Span<byte> Buffer(int index) => new(_buffers + index * Block, Block);

        /// <summary>A zeroed aiocb for one block of <paramref name="fd"/> at <paramref name="offset"/>, notifying
        /// nothing (SIGEV_NONE, which is 1 on glibc: a zeroed sigevent means SIGEV_SIGNAL).</summary>
        public GlibcAiocb* Prepare(int index, int fd, long offset)
        {
            GlibcAiocb* aiocb = _aiocbs + index;
            *aiocb = default;
            aiocb->Fildes = fd;
            aiocb->Buf = (nint)(_buffers + index * Block);
            aiocb->NBytes = Block;
            aiocb->Offset = offset;
            aiocb->SigEvent.Notify = GlibcAioConstants.SIGEV_NONE;
            return aiocb;
        }

        public void Submitted(int index) => _submitted[index] = true;

        public void Dispose()
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < _submitted.Length; i++)
            {
                while (_submitted[i] && GlibcAio.Error(_aiocbs + i) == GlibcAioConstants.EINPROGRESS)
                {
                    if (clock.Elapsed > s_bound)
                    {
                        return; // leaked: a helper thread may still write into it
                    }
                    Thread.Sleep(1);
                }
            }
            NativeMemory.Free(_aiocbs);
            NativeMemory.AlignedFree(_buffers);
        }
    }
}
