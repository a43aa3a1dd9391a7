namespace FileAio.Tests.Infrastructure;

/// <summary>Skips a test that needs root or Linux, saying why. CI runs as root on Linux, so there nothing skips.</summary>
internal static class Require
{
    public static void Linux() =>
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Needs Linux.");

    public static void Root() =>
        Assert.SkipUnless(TestNative.IsRoot, "Needs root (userfaultfd for kernel-mode faults, mount).");
}
