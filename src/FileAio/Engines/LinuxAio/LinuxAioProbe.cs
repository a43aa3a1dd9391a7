using FileAio.Interop;

namespace FileAio.Engines.LinuxAio;

/// <summary>Whether Linux AIO works here, learned by trying (a one-request context), never from the kernel version.</summary>
/// <param name="IsSupported">A context can use Linux AIO here.</param>
/// <param name="Reason">Why not, with the errno and the likely cause; null when supported.</param>
internal sealed record LinuxAioSupport(bool IsSupported, string? Reason);

internal static class LinuxAioProbe
{
    private static LinuxAioSupport? s_cached;

    /// <summary>The answer for this process, probed once.</summary>
    public static LinuxAioSupport Current => s_cached ??= Run();

    /// <summary>Forgets the cached answer (tests that change what the kernel allows and probe again).</summary>
    internal static void ResetCache() => s_cached = null;

    /// <summary>Probes now, without the cache.</summary>
    public static LinuxAioSupport Run()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new(false, "Linux AIO exists only on Linux.");
        }
        if (!LinuxAioSyscalls.IsKnownArchitecture)
        {
            return new(false, $"Linux AIO's system call numbers are known to FileAio only for x64 and arm64, not {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}.");
        }
        int errno = LinuxAioQueue.TryCreate(1, out LinuxAioQueue? queue, out string? failedStep);
        if (errno != 0)
        {
            return new(false, DescribeSetupError(errno, 1, failedStep));
        }
        queue!.Dispose();
        return new(true, null);
    }

    /// <summary>The most requests a new context may hold: what is left of the machine's budget (<c>fs.aio-max-nr</c>
    /// less <c>fs.aio-nr</c>, what every process's contexts already hold, less one for the doorbell), at most
    /// <paramref name="perContext"/>, at least 1 (a context that cannot get it fails with the reason).</summary>
    public static int ContextLimit(int perContext)
    {
        long? max = ReadSysctl(LinuxAioConstants.AioMaxNrPath);
        long? used = ReadSysctl(LinuxAioConstants.AioNrPath);
        if (max is null || used is null)
        {
            return perContext;
        }
        return (int)Math.Clamp(max.Value - used.Value - 1, 1, perContext);
    }

    /// <summary>The setup errors, each with its cause and what to do about it.</summary>
    internal static string DescribeSetupError(int errno, int requested, string? failedStep) => failedStep switch
    {
        "eventfd" => $"eventfd for the Linux AIO doorbell failed with errno {errno}.",
        "IOCB_CMD_POLL" => errno == Errno.EINVAL
            ? "io_submit refused an IOCB_CMD_POLL request (EINVAL): the kernel is older than Linux 4.19, whose AIO poll the engine's wakeups need."
            : $"io_submit of the doorbell's IOCB_CMD_POLL request failed with errno {errno}.",
        _ => DescribeIoSetupError(errno, requested),
    };

    private static string DescribeIoSetupError(int errno, int requested) => errno switch
    {
        Errno.EAGAIN => $"io_setup for {requested} requests was refused (EAGAIN): the machine's Linux AIO budget is used up " +
            $"(fs.aio-nr {Describe(ReadSysctl(LinuxAioConstants.AioNrPath))} of fs.aio-max-nr {Describe(ReadSysctl(LinuxAioConstants.AioMaxNrPath))}); " +
            "raise /proc/sys/fs/aio-max-nr, or ask for fewer requests.",
        Errno.ENOSYS => "io_setup does not exist (ENOSYS): the kernel is built without CONFIG_AIO, or a seccomp filter hides it.",
        Errno.EPERM => "io_setup was refused (EPERM): a seccomp filter or security policy blocks Linux AIO in this process.",
        Errno.ENOMEM => "io_setup could not allocate its ring (ENOMEM).",
        Errno.EINVAL => $"io_setup rejected {requested} requests (EINVAL): more than the kernel allows for one context.",
        _ => $"io_setup failed with errno {errno}.",
    };

    private static string Describe(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown";

    private static long? ReadSysctl(string path)
    {
        try
        {
            return long.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
