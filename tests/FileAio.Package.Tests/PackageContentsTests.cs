using System.Xml.Linq;
using FileAio.Package.Tests.Infrastructure;

namespace FileAio.Package.Tests;

/// <summary>What the .nupkg holds and says about itself.</summary>
[Collection(nameof(PackedPackageCollectionDefinition))]
public sealed class PackageContentsTests(PackedPackage package)
{
    [Fact]
    public void Package_Lib_HoldsTheAssemblyAndItsXmlDocs()
    {
        byte[] dll = PackedPackage.ReadEntry(package.PackagePath, "lib/net10.0/FileAio.dll");
        Assert.True(dll.Length > 0, "lib/net10.0/FileAio.dll is empty");
        string docs = PackedPackage.ReadEntryText(package.PackagePath, "lib/net10.0/FileAio.xml");
        // The XML docs of the public face, not an empty file: the two entry types are documented.
        XElement members = XDocument.Parse(docs).Root!.Element("members")!;
        foreach (string type in new[] { "T:FileAio.AioFile", "T:FileAio.AioContext" })
        {
            XElement? member = members.Elements("member").SingleOrDefault(m => (string?)m.Attribute("name") == type);
            Assert.True(member?.Element("summary")?.Value.Trim().Length > 0, $"FileAio.xml has no summary for {type}");
        }
    }

    [Fact]
    public void Package_Readme_IsTheLibrarysReadme()
    {
        string shipped = PackedPackage.ReadEntryText(package.PackagePath, "README.md");
        Assert.Equal(File.ReadAllText(Path.Combine(Repository.LibraryDirectory, "README.md")), shipped);
    }

    [Fact]
    public void Nuspec_Metadata_NamesVersionAuthorsLicenseReadmeAndNoDependencies()
    {
        XElement metadata = XDocument.Parse(PackedPackage.ReadEntryText(package.PackagePath, "FileAio.nuspec")).Root!
            .Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        Assert.Equal("FileAio", Field("id"));
        Assert.Equal(package.Version, Field("version"));
        Assert.Equal("FileAio contributors", Field("authors"));
        Assert.Equal("README.md", Field("readme"));
        XElement license = metadata.Elements().Single(e => e.Name.LocalName == "license");
        Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
        foreach (string engine in new[] { "io_uring", "Linux native AIO", "POSIX AIO", "thread-pool" })
        {
            Assert.Contains(engine, Field("description"), StringComparison.Ordinal);
        }

        // The library depends on the framework alone: one net10.0 group, empty.
        XElement group = Assert.Single(metadata.Elements().Single(e => e.Name.LocalName == "dependencies").Elements());
        Assert.Equal("net10.0", (string?)group.Attribute("targetFramework"));
        Assert.Empty(group.Elements());
    }
}
