using FileAio.Package.Tests.Infrastructure;

namespace FileAio.Package.Tests;

/// <summary>
/// A fresh project outside the repository, fed only the packed package, compiles the package README's example as its
/// Program.cs and runs it: a write, read back and comparison through AioFile, then through an AioContext batch. The
/// example throws on any difference, so a library that returns wrong bytes fails here as surely as an example that no
/// longer compiles against the public API.
/// </summary>
[Collection(nameof(PackedPackageCollectionDefinition))]
public sealed class CleanConsumerTests(PackedPackage package)
{
    private const string Engine = "(IoUring|LinuxAio|PosixAio|ThreadPool)";

    [Fact]
    public async Task ReadmeExample_BuiltAgainstThePackage_WritesReadsAndComparesOnBothLayers()
    {
        // The README as shipped in the package, not the repository's copy.
        IReadOnlyList<string> blocks = ReadmeCode.CSharpBlocks(PackedPackage.ReadEntryText(package.PackagePath, "README.md"));
        Assert.True(blocks.Count > 0, "The package README has no ```csharp example");
        ConsumerProject consumer = ConsumerProject.Write(Path.Combine(package.Root, "consumer"), package.Feed, package.Version,
            string.Join('\n', blocks));

        DotnetCommand.Result restore = await consumer.RestoreAsync();
        Assert.True(restore.Succeeded, restore.Describe());
        string restored = Path.Combine(consumer.Packages, "fileaio", package.Version.ToLowerInvariant(), "lib", "net10.0", "FileAio.dll");
        Assert.True(File.Exists(restored), $"The restore did not take FileAio from the feed into the private folder ({restored}).\n{restore.Describe()}");

        DotnetCommand.Result build = await consumer.BuildAsync();
        Assert.True(build.Succeeded, build.Describe());

        DotnetCommand.Result run = await consumer.RunAsync();
        Assert.True(run.Succeeded, run.Describe());
        Assert.Matches($@"(?m)^AioFile: 65536 bytes written, read back and compared on {Engine}$", run.Output.ReplaceLineEndings("\n"));
        Assert.Matches($@"(?m)^AioContext: 16 blocks written, read back and compared on {Engine}$", run.Output.ReplaceLineEndings("\n"));

        // The test version went to the private folder only.
        string machineCache = Repository.MachinePackageCache;
        Assert.False(Directory.Exists(Path.Combine(machineCache, "fileaio", package.Version.ToLowerInvariant())),
            $"The test version of FileAio reached the machine's package cache ({machineCache})");
    }
}
