using System.Reflection;

namespace FileAio.Package.Tests.Infrastructure;

/// <summary>The packed projects in the repository these tests were built from (assembly attributes set by the project
/// file, so the tests find them wherever the build output lands).</summary>
internal static class Repository
{
    public static string LibraryProject { get; } = Metadata("FileAio.Package.Tests.LibraryProject");

    public static string LibraryDirectory { get; } = Path.GetDirectoryName(LibraryProject)!;

    /// <summary>src/FileAio.Faster, the FASTER device package.</summary>
    public static string FasterProject { get; } = Metadata("FileAio.Package.Tests.FasterProject");

    public static string FasterDirectory { get; } = Path.GetDirectoryName(FasterProject)!;

    /// <summary>The machine's global packages folder, as NuGet finds it: NUGET_PACKAGES when set, else ~/.nuget/packages.</summary>
    public static string MachinePackageCache { get; } =
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
