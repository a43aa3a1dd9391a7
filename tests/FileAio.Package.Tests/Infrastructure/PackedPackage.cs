using System.IO.Compression;

namespace FileAio.Package.Tests.Infrastructure;

/// <summary>
/// The packages packed once for the tests of the package collection: <c>dotnet pack -c Release</c> of src/FileAio and
/// src/FileAio.Faster into a local feed in a temporary folder, with a prerelease version made for this run
/// (0.1.0-test-GUID), so no package cache can hold another build under the same version. Both are packed by one
/// command, through a solution file written to the temporary folder: FileAio.Faster builds FileAio as its
/// ProjectReference anyway, so one build serves both packages, and the Faster package depends on exactly the FileAio
/// version packed beside it. Build output goes to the temporary folder too (<c>--artifacts-path</c>): the solution
/// build that may be running beside these tests keeps src/*/obj and bin to itself. The pack's own restore uses the
/// machine's package cache, which it only reads (build-time analyzers, Microsoft.FASTER.Core); the consumers' restores,
/// which would add the test version, get a private one (<see cref="ConsumerProject"/>).
/// </summary>
public sealed class PackedPackage : IAsyncLifetime
{
    private static readonly TimeSpan s_packLimit = TimeSpan.FromMinutes(4);

    /// <summary>The temporary folder that holds everything: the feed, build output, the consumer, its packages.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"fileaio-package-{Guid.NewGuid():N}");

    public string Feed => Path.Combine(Root, "feed");

    /// <summary>The package's version, as NuGet spells it (0.1.0-test-…).</summary>
    public string Version { get; private set; } = "";

    /// <summary>FileAio's .nupkg.</summary>
    public string PackagePath { get; private set; } = "";

    public string SymbolPackagePath { get; private set; } = "";

    /// <summary>FileAio.Faster's .nupkg, of the same <see cref="Version"/>.</summary>
    public string FasterPackagePath { get; private set; } = "";

    internal DotnetCommand.Result? Pack { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        string suffix = $"test-{Guid.NewGuid():N}";
        string solution = Path.Combine(Root, "packed.slnx");
        File.WriteAllText(solution, $"""
            <Solution>
              <Project Path="{Repository.LibraryProject}" />
              <Project Path="{Repository.FasterProject}" />
            </Solution>

            """);
        // Run from the library's folder, so the repository's global.json picks the SDK as for any build there.
        Pack = await DotnetCommand.RunAsync(Repository.LibraryDirectory, s_packLimit,
        [
            "pack", solution, "-c", "Release", "-nologo", "--disable-build-servers",
            "--artifacts-path", Path.Combine(Root, "artifacts"), "--output", Feed, "--version-suffix", suffix,
        ]);
        Assert.True(Pack.Succeeded, Pack.Describe());

        // FileAio.<digit>…: the pattern FileAio.* alone would also take FileAio.Faster.*.
        string[] packages = Directory.GetFiles(Feed, $"FileAio.*-{suffix}.nupkg")
            .Where(p => char.IsAsciiDigit(Path.GetFileName(p)["FileAio.".Length])).ToArray();
        Assert.True(packages.Length == 1, $"Expected one FileAio.<version>-{suffix}.nupkg in {Feed}, found: "
            + string.Join(", ", Directory.GetFiles(Feed).Select(Path.GetFileName)) + "\n" + Pack.Describe());
        PackagePath = packages[0];
        Version = Path.GetFileNameWithoutExtension(PackagePath)["FileAio.".Length..];
        SymbolPackagePath = Path.ChangeExtension(PackagePath, ".snupkg");
        FasterPackagePath = Path.Combine(Feed, $"FileAio.Faster.{Version}.nupkg");
        Assert.True(File.Exists(FasterPackagePath), $"No {Path.GetFileName(FasterPackagePath)} in {Feed}, found: "
            + string.Join(", ", Directory.GetFiles(Feed).Select(Path.GetFileName)) + "\n" + Pack.Describe());
    }

    /// <summary>The bytes of <paramref name="entry"/> in the package at <paramref name="package"/>; fails the test,
    /// listing what is there, when it is missing.</summary>
    public static byte[] ReadEntry(string package, string entry)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        ZipArchiveEntry? found = zip.GetEntry(entry);
        Assert.True(found is not null, $"{Path.GetFileName(package)} holds no {entry}; it holds: "
            + string.Join(", ", zip.Entries.Select(e => e.FullName)));
        using Stream stream = found.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public static string ReadEntryText(string package, string entry)
    {
        using var reader = new StreamReader(new MemoryStream(ReadEntry(package, entry)), detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
