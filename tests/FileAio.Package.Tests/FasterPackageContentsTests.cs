using System.Xml.Linq;
using FileAio.Package.Tests.Infrastructure;

namespace FileAio.Package.Tests;

/// <summary>What FileAio.Faster's .nupkg holds and what it depends on.</summary>
[Collection(nameof(PackedPackageCollectionDefinition))]
public sealed class FasterPackageContentsTests(PackedPackage package)
{
    [Fact]
    public void Package_Lib_HoldsTheAssemblyAndItsXmlDocs()
    {
        byte[] dll = PackedPackage.ReadEntry(package.FasterPackagePath, "lib/net10.0/FileAio.Faster.dll");
        Assert.True(dll.Length > 0, "lib/net10.0/FileAio.Faster.dll is empty");
        XElement members = XDocument.Parse(PackedPackage.ReadEntryText(package.FasterPackagePath, "lib/net10.0/FileAio.Faster.xml"))
            .Root!.Element("members")!;
        foreach (string type in new[] { "T:FileAio.Faster.FileAioDevice", "T:FileAio.Faster.FileAioNamedDeviceFactory" })
        {
            XElement? member = members.Elements("member").SingleOrDefault(m => (string?)m.Attribute("name") == type);
            Assert.True(member?.Element("summary")?.Value.Trim().Length > 0, $"FileAio.Faster.xml has no summary for {type}");
        }
    }

    [Fact]
    public void Package_Readme_IsTheProjectsReadme()
    {
        string shipped = PackedPackage.ReadEntryText(package.FasterPackagePath, "README.md");
        Assert.Equal(File.ReadAllText(Path.Combine(Repository.FasterDirectory, "README.md")), shipped);
    }

    [Fact]
    public void Nuspec_Dependencies_AreExactlyThisFileAioAndFasterCore()
    {
        XElement metadata = XDocument.Parse(PackedPackage.ReadEntryText(package.FasterPackagePath, "FileAio.Faster.nuspec")).Root!
            .Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        Assert.Equal("FileAio.Faster", Field("id"));
        Assert.Equal(package.Version, Field("version"));
        Assert.Equal("FileAio contributors", Field("authors"));
        Assert.Equal("README.md", Field("readme"));

        // The ProjectReference becomes a dependency on the FileAio packed beside it (same version, a prerelease that
        // exists nowhere else), and FASTER's version is the one Directory.Packages.props pins.
        XElement group = Assert.Single(metadata.Elements().Single(e => e.Name.LocalName == "dependencies").Elements());
        Assert.Equal("net10.0", (string?)group.Attribute("targetFramework"));
        Dictionary<string, string?> dependencies = group.Elements().ToDictionary(d => (string)d.Attribute("id")!, d => (string?)d.Attribute("version"));
        Assert.Equal(new Dictionary<string, string?> { ["FileAio"] = package.Version, ["Microsoft.FASTER.Core"] = "2.6.5" }, dependencies);
    }
}
