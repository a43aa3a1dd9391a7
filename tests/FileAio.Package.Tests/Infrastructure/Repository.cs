using System.Reflection;

namespace FileAio.Package.Tests.Infrastructure;

/// <summary>The library's project in the repository these tests were built from (an assembly attribute set by the
/// project file, so the tests find it wherever the build output lands).</summary>
internal static class Repository
{
    public static string LibraryProject { get; } =
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "FileAio.Package.Tests.LibraryProject").Value!;

    public static string LibraryDirectory { get; } = Path.GetDirectoryName(LibraryProject)!;
}
