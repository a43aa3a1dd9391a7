using System.Buffers;
using System.Runtime.InteropServices;

namespace FileAio.Tests.Infrastructure;

/// <summary>
/// Memory whose pages are missing and registered with <c>userfaultfd</c>: any kernel copy into it (a read) or out of
/// it (a write) blocks inside the kernel until <see cref="Release"/> fills the pages in. This gives tests an
/// operation that is really stuck in the kernel, without a mock. Needs root (kernel-mode faults). Released pages are
/// filled with <see cref="ReleasedFill"/>.
/// </summary>
public sealed unsafe class UserfaultStall : MemoryManager<byte>
{
    // ioctl numbers from linux/userfaultfd.h (the same on x64 and arm64).
    private const ulong UFFDIO_API = 0xC018AA3F;
    private const ulong UFFDIO_REGISTER = 0xC020AA00;
    private const ulong UFFDIO_COPY = 0xC028AA03;

    /// <summary>What released pages hold: the tests' "never written" sentinel, so a cancelled read's buffer can be
    /// told from one the kernel filled.</summary>
    public const byte ReleasedFill = 0xEE;
    private const ulong UFFD_API = 0xAA;
    private const ulong UFFDIO_REGISTER_MODE_MISSING = 1;

    private readonly int _uffd;
    private readonly byte* _region;
    private readonly int _length;
    private bool _released;

    public UserfaultStall(int length = 4096)
    {
        _length = (length + 4095) & ~4095;
        _uffd = (int)TestNative.syscall(TestNative.SysUserfaultfd, TestNative.O_CLOEXEC | TestNative.O_NONBLOCK);
        if (_uffd < 0)
        {
            throw new InvalidOperationException($"userfaultfd failed: errno {Marshal.GetLastPInvokeError()}");
        }
        ulong* api = stackalloc ulong[3] { UFFD_API, 0, 0 };
        Check(TestNative.ioctl(_uffd, UFFDIO_API, api), "UFFDIO_API");

        _region = (byte*)TestNative.mmap(null, (nuint)_length, TestNative.PROT_READ | TestNative.PROT_WRITE,
            TestNative.MAP_PRIVATE | TestNative.MAP_ANONYMOUS, -1, 0);
        if ((nint)_region == -1)
        {
            throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        }
        ulong* register = stackalloc ulong[4] { (ulong)_region, (ulong)_length, UFFDIO_REGISTER_MODE_MISSING, 0 };
        Check(TestNative.ioctl(_uffd, UFFDIO_REGISTER, register), "UFFDIO_REGISTER");
    }

    public int Length => _length;

    /// <summary>
    /// Waits until some thread (a kernel worker, a thread-pool thread) has faulted on the region: the kernel is then
    /// really inside the copy and blocked there. The fault message stays queued, so this may be called again.
    /// </summary>
    public bool WaitUntilFaulted(TimeSpan timeout)
    {
        var fds = new TestNative.PollFd { Fd = _uffd, Events = TestNative.POLLIN };
        return TestNative.poll(&fds, 1, (int)timeout.TotalMilliseconds) == 1 && (fds.Revents & TestNative.POLLIN) != 0;
    }

    /// <summary>Resolves the missing pages, filled with <see cref="ReleasedFill"/>: every blocked copy continues.
    /// Idempotent.</summary>
    public void Release()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        byte* source = stackalloc byte[4096];
        new Span<byte>(source, 4096).Fill(ReleasedFill);
        ulong* copy = stackalloc ulong[5]; // struct uffdio_copy { dst, src, len, mode, copy }
        for (int offset = 0; offset < _length; offset += 4096)
        {
            copy[0] = (ulong)(_region + offset);
            copy[1] = (ulong)source;
            copy[2] = 4096;
            copy[3] = 0;
            copy[4] = 0;
            int result = TestNative.ioctl(_uffd, UFFDIO_COPY, copy);
            // EEXIST: the page is already there (the kernel's own copy raced in); nothing to resolve.
            if (result != 0 && Marshal.GetLastPInvokeError() != 17)
            {
                throw new InvalidOperationException($"UFFDIO_COPY failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
    }

    /// <summary>The span over the region. Making it touches nothing, but reading or writing it before <see cref="Release"/>
    /// blocks the calling thread in the page fault, like the kernel's copies.</summary>
    public override Span<byte> GetSpan() => new(_region, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_region + elementIndex, default, this);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        Release();
        TestNative.close(_uffd);
        TestNative.munmap(_region, (nuint)_length);
    }

    public void Dispose() => ((IDisposable)this).Dispose();

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
