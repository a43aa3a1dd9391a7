using FileAio.Package.Tests.Infrastructure;

namespace FileAio.Package.Tests;

/// <summary>
/// A fresh project outside the repository references FileAio.Faster by version, compiles the package README's example
/// as its Program.cs and runs it: FasterLog entries enqueued, committed and scanned back through a FileAioDevice, each
/// compared with what was enqueued. FileAio (the dependency) comes from the same feed; Microsoft.FASTER.Core and its
/// dependencies from the machine's package cache, read as a local source (<see cref="ConsumerProject"/>).
/// </summary>
[Collection(nameof(PackedPackageCollectionDefinition))]
public sealed class FasterCleanConsumerTests(PackedPackage package)
{
    [Fact]
    public async Task ReadmeExample_BuiltAgainstThePackage_CommitsAndScansBackAFasterLog()
    {
        IReadOnlyList<string> blocks = ReadmeCode.CSharpBlocks(PackedPackage.ReadEntryText(package.FasterPackagePath, "README.md"));
        Assert.True(blocks.Count > 0, "The FileAio.Faster package README has no ```csharp example");
        string machineCache = Repository.MachinePackageCache;
        ConsumerProject consumer = ConsumerProject.Write(Path.Combine(package.Root, "consumer-faster"), package.Feed, package.Version,
            string.Join('\n', blocks), packageId: "FileAio.Faster", readOnlySource: machineCache);

        DotnetCommand.Result restore = await consumer.RestoreAsync();
        Assert.True(restore.Succeeded, restore.Describe());
        string version = package.Version.ToLowerInvariant();
        foreach (string restored in new[]
        {
            Path.Combine(consumer.Packages, "fileaio.faster", version, "lib", "net10.0", "FileAio.Faster.dll"),
            Path.Combine(consumer.Packages, "fileaio", version, "lib", "net10.0", "FileAio.dll"),
            Path.Combine(consumer.Packages, "microsoft.faster.core", "2.6.5"),
        })
        {
            Assert.True(Path.Exists(restored), $"The restore did not put {restored} into the private folder.\n{restore.Describe()}");
        }

        DotnetCommand.Result build = await consumer.BuildAsync();
        Assert.True(build.Succeeded, build.Describe());

        DotnetCommand.Result run = await consumer.RunAsync();
        Assert.True(run.Succeeded, run.Describe());
        Assert.Matches(@"(?m)^FasterLog: 2000 entries enqueued, committed, read back and compared on FileAioDevice$",
            run.Output.ReplaceLineEndings("\n"));

        // The machine's cache was a source here, so it is the place the test version could have leaked into.
        foreach (string id in new[] { "fileaio", "fileaio.faster" })
        {
            Assert.False(Directory.Exists(Path.Combine(machineCache, id, version)),
                $"The test version of {id} reached the machine's package cache ({machineCache})");
        }
    }
}
