using FASTER.core;

namespace FileAio.Faster.Tests.Infrastructure;

/// <summary>
/// Base of every test: a fresh directory (on the machine's temp file system, ext4 here, so O_DIRECT works), devices and
/// checkpoint managers on FileAio with the engine of the concrete class, and at the end a check that no descriptor into
/// the directory was left open.
/// </summary>
public abstract class FasterTest : IDisposable
{
    protected FasterTest(AioEngineKind engine)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "FileAioDevice is tested on Linux.");
        AioLimits limits = AioContext.GetLimits(engine);
        Assert.SkipUnless(limits.IsSupported, $"{engine} cannot run here: {limits.UnsupportedReason}");
        Engine = engine;
        Directory = Path.Combine(Path.GetTempPath(), "fileaio-faster-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    protected AioEngineKind Engine { get; }

    protected string Directory { get; }

    protected string PathOf(string name) => Path.Combine(Directory, name);

    protected FileAioDeviceOptions Options(bool direct = true) => new() { Engine = Engine, Direct = direct };

    /// <summary>A device for <c>&lt;directory&gt;/&lt;name&gt;</c>.</summary>
    protected FileAioDevice NewDevice(string name, bool recover = false, bool direct = true, string? under = null) =>
        new(Path.Combine(under ?? Directory, name), recoverDevice: recover, options: Options(direct));

    /// <summary>Checkpoints and commits through FileAio devices as well, under <c>&lt;directory&gt;/&lt;name&gt;</c>.</summary>
    protected DeviceLogCommitCheckpointManager NewCheckpoints(string name, bool direct = true, string? under = null) =>
        new(new FileAioNamedDeviceFactory(options: Options(direct)), new DefaultCheckpointNamingScheme(Path.Combine(under ?? Directory, name)));

    public virtual void Dispose()
    {
        List<string> open = OpenDescriptorsInDirectory();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A mount point still busy is reported by the test that mounted it.
        }
        Assert.True(open.Count == 0, "Descriptors left open: " + string.Join(", ", open));
        GC.SuppressFinalize(this);
    }

    private List<string> OpenDescriptorsInDirectory()
    {
        var found = new List<string>();
        foreach (string fd in System.IO.Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith(Directory, StringComparison.Ordinal))
                {
                    found.Add($"{fd} -> {target}");
                }
            }
            catch (IOException)
            {
                // Closed while we looked (the enumeration's own descriptor).
            }
        }
        return found;
    }
}
