using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FileAio.Interop.PosixAio;

namespace FileAio.Tests.Abi;

/// <summary>
/// Pins every POSIX AIO structure FileAio declares to the sizes and offsets of its platform's headers, and every
/// constant to its header value. The expected numbers are literals copied from /work/shared/research/aio-abi.md
/// (the section is named at each group): they hold on every machine, so these tests run everywhere, including for
/// FreeBSD and macOS, whose declarations nothing here can call. The glibc numbers are also compared with the real
/// headers by <see cref="PosixAioGlibcHeaderTests"/>.
/// </summary>
public sealed class PosixAioLayoutTests
{
    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    private static void AssertSize<T>(int expected) where T : struct
    {
        Assert.Equal(expected, Unsafe.SizeOf<T>());
        Assert.Equal(expected, Marshal.SizeOf<T>()); // blittable: the marshaller sees the same layout
    }

    // ---- Linux glibc, x86-64 = arm64 (aio-abi.md §2.2, §2.3; glibc rt/aio.h, bits/types/sigevent_t.h) ----

    [Fact]
    public void GlibcAiocb_Has168BytesAndTheHeaderOffsets()
    {
        AssertSize<GlibcAiocb>(168);
        Assert.Equal(0, Offset<GlibcAiocb>(nameof(GlibcAiocb.Fildes)));
        Assert.Equal(4, Offset<GlibcAiocb>(nameof(GlibcAiocb.LioOpcode)));
        Assert.Equal(8, Offset<GlibcAiocb>(nameof(GlibcAiocb.ReqPrio)));
        Assert.Equal(16, Offset<GlibcAiocb>(nameof(GlibcAiocb.Buf)));
        Assert.Equal(24, Offset<GlibcAiocb>(nameof(GlibcAiocb.NBytes)));
        Assert.Equal(32, Offset<GlibcAiocb>(nameof(GlibcAiocb.SigEvent)));
        Assert.Equal(112, Offset<GlibcAiocb>(nameof(GlibcAiocb.ErrorCode)));
        Assert.Equal(120, Offset<GlibcAiocb>(nameof(GlibcAiocb.ReturnValue)));
        Assert.Equal(128, Offset<GlibcAiocb>(nameof(GlibcAiocb.Offset)));
    }

    [Fact]
    public void GlibcSigevent_Has64BytesAndTheHeaderOffsets()
    {
        AssertSize<GlibcSigevent>(64);
        Assert.Equal(0, Offset<GlibcSigevent>(nameof(GlibcSigevent.Value)));
        Assert.Equal(8, Offset<GlibcSigevent>(nameof(GlibcSigevent.Signo)));
        Assert.Equal(12, Offset<GlibcSigevent>(nameof(GlibcSigevent.Notify)));
        Assert.Equal(16, Offset<GlibcSigevent>(nameof(GlibcSigevent.NotifyFunction)));
        Assert.Equal(24, Offset<GlibcSigevent>(nameof(GlibcSigevent.NotifyAttributes)));
        Assert.Equal(16, Offset<GlibcSigevent>(nameof(GlibcSigevent.ThreadId)));
    }

    [Fact]
    public void GlibcAioInit_IsEightInts()
    {
        AssertSize<GlibcAioInit>(32);
        Assert.Equal(0, Offset<GlibcAioInit>(nameof(GlibcAioInit.Threads)));
        Assert.Equal(4, Offset<GlibcAioInit>(nameof(GlibcAioInit.Num)));
        Assert.Equal(8, Offset<GlibcAioInit>(nameof(GlibcAioInit.Locks)));
        Assert.Equal(12, Offset<GlibcAioInit>(nameof(GlibcAioInit.UsedBa)));
        Assert.Equal(16, Offset<GlibcAioInit>(nameof(GlibcAioInit.Debug)));
        Assert.Equal(20, Offset<GlibcAioInit>(nameof(GlibcAioInit.NumUsers)));
        Assert.Equal(24, Offset<GlibcAioInit>(nameof(GlibcAioInit.IdleTime)));
        Assert.Equal(28, Offset<GlibcAioInit>(nameof(GlibcAioInit.Reserved)));
    }

    [Fact]
    public void GlibcConstants_HaveTheHeaderValues()
    {
        // aio-abi.md §2.4 (R on x86-64, A on arm64). SIGEV_NONE is 1 and SIGEV_SIGNAL 0 on glibc (§5 trap 11).
        Assert.Equal(0, GlibcAioConstants.SIGEV_SIGNAL);
        Assert.Equal(1, GlibcAioConstants.SIGEV_NONE);
        Assert.Equal(2, GlibcAioConstants.SIGEV_THREAD);
        Assert.Equal(4, GlibcAioConstants.SIGEV_THREAD_ID);
        Assert.Equal(0, GlibcAioConstants.LIO_READ);
        Assert.Equal(1, GlibcAioConstants.LIO_WRITE);
        Assert.Equal(2, GlibcAioConstants.LIO_NOP);
        Assert.Equal(0, GlibcAioConstants.LIO_WAIT);
        Assert.Equal(1, GlibcAioConstants.LIO_NOWAIT);
        Assert.Equal(0, GlibcAioConstants.AIO_CANCELED);
        Assert.Equal(1, GlibcAioConstants.AIO_NOTCANCELED);
        Assert.Equal(2, GlibcAioConstants.AIO_ALLDONE);
        Assert.Equal(20, GlibcAioConstants.AIO_PRIO_DELTA_MAX);
        Assert.Equal(0x101000, GlibcAioConstants.O_SYNC);
        Assert.Equal(0x1000, GlibcAioConstants.O_DSYNC);
        Assert.Equal(115, GlibcAioConstants.EINPROGRESS);
        Assert.Equal(125, GlibcAioConstants.ECANCELED);
        Assert.Equal(11, GlibcAioConstants.EAGAIN);
        // The Linux numbering FileAio already uses elsewhere.
        Assert.Equal(FileAio.Interop.Errno.ECANCELED, GlibcAioConstants.ECANCELED);
        Assert.Equal(FileAio.Interop.Errno.EAGAIN, GlibcAioConstants.EAGAIN);
    }

    [Fact]
    public void Timespec_IsTwoLongs()
    {
        // LP64 struct timespec on glibc, FreeBSD and macOS: time_t and long (aio-abi.md §3.2: "struct timespec 16 B").
        AssertSize<Timespec>(16);
        Assert.Equal(0, Offset<Timespec>(nameof(Timespec.Seconds)));
        Assert.Equal(8, Offset<Timespec>(nameof(Timespec.Nanoseconds)));
        Timespec t = Timespec.FromMilliseconds(2_345);
        Assert.Equal(2, t.Seconds);
        Assert.Equal(345_000_000, t.Nanoseconds);
    }

    // ---- FreeBSD amd64 = arm64 (aio-abi.md §3.2; FreeBSD sys/aio.h, sys/signal.h, sys/event.h) ----

    [Fact]
    public void FreeBsdAiocb_Has160BytesWithTheOffsetSecondAndTheSigeventLast()
    {
        AssertSize<FreeBsdAiocb>(160);
        Assert.Equal(0, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.Fildes)));
        Assert.Equal(8, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.Offset)));
        Assert.Equal(16, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.Buf)));
        Assert.Equal(16, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.Iov)));       // #define aio_iov aio_buf
        Assert.Equal(24, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.NBytes)));
        Assert.Equal(24, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.IovCnt)));    // #define aio_iovcnt aio_nbytes
        Assert.Equal(48, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.LioOpcode)));
        Assert.Equal(52, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.ReqPrio)));
        Assert.Equal(80, Offset<FreeBsdAiocb>(nameof(FreeBsdAiocb.SigEvent)));
    }

    [Fact]
    public void FreeBsdSigevent_Has80BytesWithTheKqueueInTheSignoSlot()
    {
        AssertSize<FreeBsdSigevent>(80);
        Assert.Equal(0, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.Notify)));
        Assert.Equal(4, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.Signo)));
        Assert.Equal(4, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.NotifyKqueue)));    // = sigev_signo
        Assert.Equal(8, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.Value)));
        Assert.Equal(16, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.NotifyKeventFlags))); // _sigev_un._kevent_flags
        Assert.Equal(16, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.ThreadId)));
        Assert.Equal(16, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.NotifyFunction)));
        Assert.Equal(24, Offset<FreeBsdSigevent>(nameof(FreeBsdSigevent.NotifyAttributes)));
        Type flags = typeof(FreeBsdSigevent).GetField(nameof(FreeBsdSigevent.NotifyKeventFlags))!.FieldType;
        Assert.Equal(typeof(ushort), flags); // unsigned short _kevent_flags
    }

    [Fact]
    public void FreeBsdKevent_HasTheFreeBsd12LayoutWithExt()
    {
        AssertSize<FreeBsdKevent>(64); // FreeBSD 11's layout had 32 bytes
        Assert.Equal(0, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.Ident)));
        Assert.Equal(8, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.Filter)));
        Assert.Equal(10, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.Flags)));
        Assert.Equal(12, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.FFlags)));
        Assert.Equal(16, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.Data)));
        Assert.Equal(24, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.UData)));
        Assert.Equal(32, Offset<FreeBsdKevent>(nameof(FreeBsdKevent.Ext)));
    }

    [Fact]
    public void FreeBsdConstants_HaveTheHeaderValues()
    {
        // aio-abi.md §3.3 (and §5 trap 11: these differ from glibc's).
        Assert.Equal(1, FreeBsdAioConstants.AIO_CANCELED);
        Assert.Equal(2, FreeBsdAioConstants.AIO_NOTCANCELED);
        Assert.Equal(3, FreeBsdAioConstants.AIO_ALLDONE);
        Assert.Equal(0, FreeBsdAioConstants.LIO_NOP);
        Assert.Equal(1, FreeBsdAioConstants.LIO_WRITE);
        Assert.Equal(2, FreeBsdAioConstants.LIO_READ);
        Assert.Equal(4, FreeBsdAioConstants.LIO_VECTORED);
        Assert.Equal(5, FreeBsdAioConstants.LIO_WRITEV);
        Assert.Equal(6, FreeBsdAioConstants.LIO_READV);
        Assert.Equal(0, FreeBsdAioConstants.LIO_NOWAIT);
        Assert.Equal(1, FreeBsdAioConstants.LIO_WAIT);
        Assert.Equal(16, FreeBsdAioConstants.AIO_LISTIO_MAX);
        Assert.Equal(0, FreeBsdAioConstants.SIGEV_NONE);
        Assert.Equal(1, FreeBsdAioConstants.SIGEV_SIGNAL);
        Assert.Equal(2, FreeBsdAioConstants.SIGEV_THREAD);
        Assert.Equal(3, FreeBsdAioConstants.SIGEV_KEVENT);
        Assert.Equal(4, FreeBsdAioConstants.SIGEV_THREAD_ID);
        Assert.Equal(-3, FreeBsdAioConstants.EVFILT_AIO);
        Assert.Equal(-10, FreeBsdAioConstants.EVFILT_LIO);
        Assert.Equal(-11, FreeBsdAioConstants.EVFILT_USER);
        Assert.Equal(0x01000000u, FreeBsdAioConstants.NOTE_TRIGGER);
        Assert.Equal(0x1, FreeBsdAioConstants.EV_ADD);
        Assert.Equal(0x2, FreeBsdAioConstants.EV_DELETE);
        Assert.Equal(0x4, FreeBsdAioConstants.EV_ENABLE);
        Assert.Equal(0x8, FreeBsdAioConstants.EV_DISABLE);
        Assert.Equal(0x10, FreeBsdAioConstants.EV_ONESHOT);
        Assert.Equal(0x20, FreeBsdAioConstants.EV_CLEAR);
        Assert.Equal(0x40, FreeBsdAioConstants.EV_RECEIPT);
        Assert.Equal(0x80, FreeBsdAioConstants.EV_DISPATCH);
        Assert.Equal(0x2000, FreeBsdAioConstants.EV_FLAG1);
        Assert.Equal(0x4000, FreeBsdAioConstants.EV_ERROR);
        Assert.Equal(0x8000, FreeBsdAioConstants.EV_EOF);
        Assert.Equal(0x80, FreeBsdAioConstants.O_SYNC);
        Assert.Equal(0x01000000, FreeBsdAioConstants.O_DSYNC);
        Assert.Equal(0x10000, FreeBsdAioConstants.O_DIRECT);
        Assert.Equal(35, FreeBsdAioConstants.EAGAIN);
        Assert.Equal(36, FreeBsdAioConstants.EINPROGRESS);
        Assert.Equal(45, FreeBsdAioConstants.EOPNOTSUPP);
        Assert.Equal(85, FreeBsdAioConstants.ECANCELED);
    }

    // ---- macOS arm64 = x86-64 (aio-abi.md §4; xnu bsd/sys/aio.h, bsd/sys/signal.h) ----

    [Fact]
    public void MacAiocb_Has80BytesWithTheSigeventAt40()
    {
        AssertSize<MacAiocb>(80);
        Assert.Equal(0, Offset<MacAiocb>(nameof(MacAiocb.Fildes)));
        Assert.Equal(8, Offset<MacAiocb>(nameof(MacAiocb.Offset)));
        Assert.Equal(16, Offset<MacAiocb>(nameof(MacAiocb.Buf)));
        Assert.Equal(24, Offset<MacAiocb>(nameof(MacAiocb.NBytes)));
        Assert.Equal(32, Offset<MacAiocb>(nameof(MacAiocb.ReqPrio)));
        Assert.Equal(40, Offset<MacAiocb>(nameof(MacAiocb.SigEvent)));
        Assert.Equal(72, Offset<MacAiocb>(nameof(MacAiocb.LioOpcode)));
    }

    [Fact]
    public void MacSigevent_Has32Bytes()
    {
        AssertSize<MacSigevent>(32);
        Assert.Equal(0, Offset<MacSigevent>(nameof(MacSigevent.Notify)));
        Assert.Equal(4, Offset<MacSigevent>(nameof(MacSigevent.Signo)));
        Assert.Equal(8, Offset<MacSigevent>(nameof(MacSigevent.Value)));
        Assert.Equal(16, Offset<MacSigevent>(nameof(MacSigevent.NotifyFunction)));
        Assert.Equal(24, Offset<MacSigevent>(nameof(MacSigevent.NotifyAttributes)));
    }

    [Fact]
    public void MacConstants_HaveTheHeaderValues()
    {
        // aio-abi.md §4 (and §5 trap 11).
        Assert.Equal(1, MacAioConstants.AIO_ALLDONE);
        Assert.Equal(2, MacAioConstants.AIO_CANCELED);
        Assert.Equal(4, MacAioConstants.AIO_NOTCANCELED);
        Assert.Equal(0, MacAioConstants.LIO_NOP);
        Assert.Equal(1, MacAioConstants.LIO_READ);
        Assert.Equal(2, MacAioConstants.LIO_WRITE);
        Assert.Equal(1, MacAioConstants.LIO_NOWAIT);
        Assert.Equal(2, MacAioConstants.LIO_WAIT);
        Assert.Equal(16, MacAioConstants.AIO_LISTIO_MAX);
        Assert.Equal(0, MacAioConstants.SIGEV_NONE);
        Assert.Equal(1, MacAioConstants.SIGEV_SIGNAL);
        Assert.Equal(3, MacAioConstants.SIGEV_THREAD);
        Assert.Equal(0x80, MacAioConstants.O_SYNC);
        Assert.Equal(0x400000, MacAioConstants.O_DSYNC);
        Assert.Equal(35, MacAioConstants.EAGAIN);
        Assert.Equal(36, MacAioConstants.EINPROGRESS);
        Assert.Equal(89, MacAioConstants.ECANCELED);
    }
}
