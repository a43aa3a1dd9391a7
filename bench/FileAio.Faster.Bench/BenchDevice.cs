using FASTER.core;

namespace FileAio.Faster.Bench;

/// <summary>The two devices under comparison, made the way an application would make them.</summary>
internal static class BenchDevice
{
    /// <summary>The log device: FASTER's own for <c>managed</c> — <c>Devices.CreateLogDevice</c>, which on Linux is
    /// <see cref="ManagedLocalStorageDevice"/> whatever <c>useIoCompletionPort</c> says — or the one-line swap to
    /// <see cref="FileAioDevice"/>. Both delete their files on close: every run starts from an empty directory.</summary>
    public static IDevice CreateLog(BenchOptions options, string path)
    {
        if (!options.IsFileAio)
        {
            IDevice device = Devices.CreateLogDevice(path, preallocateFile: false, deleteOnClose: true, useIoCompletionPort: false);
            return device is ManagedLocalStorageDevice
                ? device
                : throw new InvalidOperationException($"Devices.CreateLogDevice gave {device.GetType().Name}, not ManagedLocalStorageDevice");
        }
        return new FileAioDevice(path, preallocateFile: false, deleteOnClose: true, options: FileAioOptions(options));
    }

    /// <summary>Where FasterLog writes its commit records: through the same kind of device as the log (FASTER's own
    /// factory makes managed devices; FileAio's makes FileAioDevices).</summary>
    public static ILogCommitManager CreateCommitManager(BenchOptions options, string directory)
    {
        INamedDeviceFactory factory = options.IsFileAio
            ? new FileAioNamedDeviceFactory(options: FileAioOptions(options))
            : new LocalStorageNamedDeviceFactory();
        return new DeviceLogCommitCheckpointManager(factory, new DefaultCheckpointNamingScheme(directory));
    }

    /// <summary>What the run used, for the report: the device's type and, for FileAio, the engine its files get.</summary>
    public static (string Type, string Engine) Describe(BenchOptions options, IDevice device, string directory)
    {
        if (!options.IsFileAio)
        {
            return (device.GetType().Name, "thread pool (FileStream)");
        }
        // The device does not expose its files; a probe file opened with the same options gets the same engine.
        string probe = Path.Combine(directory, ".engine-probe");
        using (AioFile file = AioFile.Open(probe, FileMode.Create, FileAccess.ReadWrite,
            new AioFileOptions { Direct = options.Direct, Engine = options.Engine }))
        {
            File.Delete(probe);
            return (device.GetType().Name, file.Engine.ToString());
        }
    }

    private static FileAioDeviceOptions FileAioOptions(BenchOptions options) =>
        new() { Direct = options.Direct, Engine = options.Engine, InlineReadCallbacks = options.InlineReads };
}
