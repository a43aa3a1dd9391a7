using FileAio.Package.Tests.Infrastructure;

namespace FileAio.Package.Tests;

/// <summary>The .snupkg beside the package: the PDB of the very assembly shipped, with every source inside it.</summary>
[Collection(nameof(PackedPackageCollectionDefinition))]
public sealed class SymbolPackageTests(PackedPackage package)
{
    [Fact]
    public void SymbolPackage_Pdb_IsTheOneTheShippedAssemblyNames()
    {
        Assert.True(File.Exists(package.SymbolPackagePath), $"No symbols package beside the package: {package.SymbolPackagePath}");
        byte[] pdb = PackedPackage.ReadEntry(package.SymbolPackagePath, "lib/net10.0/FileAio.pdb");
        byte[] dll = PackedPackage.ReadEntry(package.PackagePath, "lib/net10.0/FileAio.dll");
        Assert.Equal(PortablePdb.IdWantedBy(dll), PortablePdb.Id(pdb));
    }

    [Fact]
    public void SymbolPackage_Pdb_EmbedsEverySourceAsInTheRepository()
    {
        byte[] pdb = PackedPackage.ReadEntry(package.SymbolPackagePath, "lib/net10.0/FileAio.pdb");
        IReadOnlyDictionary<string, string?> sources = PortablePdb.Sources(pdb);

        string[] missing = sources.Where(s => s.Value is null).Select(s => s.Key).ToArray();
        Assert.True(missing.Length == 0, $"{missing.Length} of {sources.Count} documents have no embedded source: "
            + string.Join(", ", missing.Take(10)));
        // The text is the file's, not merely some text: two sources compared with the repository's.
        foreach (string file in new[] { "AioFile.cs", "Engines/IoUring/IoUringEngine.cs" })
        {
            string[] named = sources.Keys.Where(k => k.Replace('\\', '/').EndsWith("/src/FileAio/" + file, StringComparison.Ordinal)).ToArray();
            string document = Assert.Single(named);
            Assert.Equal(File.ReadAllText(Path.Combine(Repository.LibraryDirectory, file)), sources[document]);
        }
    }
}
