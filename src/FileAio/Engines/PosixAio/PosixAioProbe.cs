using System.Runtime.InteropServices;

namespace FileAio.Engines.PosixAio;

/// <summary>Whether POSIX AIO works here, learned by trying (on glibc: arming the doorbell's sentinel request).</summary>
/// <param name="IsSupported">A context can use POSIX AIO here.</param>
/// <param name="Reason">Why not; null when supported.</param>
/// <param name="MaxOutstanding">Most requests one engine holds on this platform.</param>
internal sealed record PosixAioSupport(bool IsSupported, string? Reason, int MaxOutstanding);

internal static class PosixAioProbe
{
    private static PosixAioSupport? s_cached;

    /// <summary>The answer for this process, probed once.</summary>
    public static PosixAioSupport Current => s_cached ??= Run();

    private static PosixAioSupport Run()
    {
        if (!Environment.Is64BitProcess
            || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return new(false, $"FileAio declares the POSIX AIO structures for 64-bit x64 and arm64 only, not {RuntimeInformation.ProcessArchitecture}.", 0);
        }
        if (OperatingSystem.IsLinux())
        {
            if (!NativeLibrary.TryLoad("librt.so.1", out IntPtr library))
            {
                return new(false, "librt.so.1 was not found: FileAio's POSIX AIO engine needs glibc (musl's AIO is not supported).", 0);
            }
            NativeLibrary.Free(library);
            int errno = GlibcDoorbell.TryGet(out _);
            return errno == 0
                ? new(true, null, GlibcAioPlatform.MaxOutstanding)
                : new(false, $"glibc refused the wakeup request POSIX AIO sleeps on (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).", 0);
        }
        if (OperatingSystem.IsFreeBSD())
        {
            int errno = FreeBsdAioPlatform.TryCreate(1, out FreeBsdAioPlatform? platform);
            platform?.Dispose();
            return errno == 0
                ? new(true, null, FreeBsdAioPlatform.MaxOutstanding)
                : new(false, $"kqueue failed (errno {errno}).", 0);
        }
        if (OperatingSystem.IsMacOS())
        {
            return new(true, null, MacAioPlatform.MaxOutstanding);
        }
        return new(false, "POSIX AIO is implemented for Linux (glibc), FreeBSD and macOS only.", 0);
    }

    /// <summary>The platform half for an engine of <paramref name="capacity"/> requests; 0, or an errno.</summary>
    public static int TryCreatePlatform(int capacity, out IPosixAioPlatform? platform)
    {
        platform = null;
        if (OperatingSystem.IsLinux())
        {
            int errno = GlibcDoorbell.TryGet(out GlibcDoorbell? doorbell);
            if (errno == 0)
            {
                platform = new GlibcAioPlatform(capacity, doorbell!);
            }
            return errno;
        }
        if (OperatingSystem.IsFreeBSD())
        {
            int errno = FreeBsdAioPlatform.TryCreate(capacity, out FreeBsdAioPlatform? created);
            platform = created;
            return errno;
        }
        if (OperatingSystem.IsMacOS())
        {
            platform = new MacAioPlatform(capacity);
            return 0;
        }
        return Interop.Errno.ENOSYS;
    }
}
