namespace FileAio.Package.Tests.Infrastructure;

/// <summary>
/// A console project written from nothing, as a stranger would start one, that references one of the packages (FileAio
/// or FileAio.Faster) by version from the local feed. It lives under the temporary folder, outside the repository, so nothing of the repository's build
/// (Directory.Build.props, central package versions, global.json) reaches it; empty Directory.Build.* and
/// Directory.Packages.props files at its root stop MSBuild's search upwards there, whatever the temporary directory's
/// parents hold. Its NuGet.config clears every source but the feed, and its packages go to a private folder, so the
/// test version never lands in the machine's cache. A package with dependencies from nuget.org (FileAio.Faster on
/// Microsoft.FASTER.Core) is also given the machine's global packages folder as a second, local source: it has the v3
/// folder layout NuGet reads as a feed, the repository's own restore has already put those dependencies there, and a
/// source is only read, so the consumer needs no network and still writes nothing to the machine's cache. Source
/// mapping sends FileAio* to the feed alone, so the packages under test can only come from this run's pack.
/// </summary>
internal sealed class ConsumerProject
{
    private static readonly TimeSpan s_restoreLimit = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan s_buildLimit = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_runLimit = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, string?> _environment;

    private ConsumerProject(string root)
    {
        Root = root;
        ProjectDirectory = Path.Combine(root, "Consumer");
        Packages = Path.Combine(root, "packages");
        // TMPDIR: the example's data file lands in the temporary folder, removed with it even when the example fails.
        _environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Packages, ["TMPDIR"] = root };
    }

    public string Root { get; }

    public string ProjectDirectory { get; }

    /// <summary>The consumer's private global packages folder.</summary>
    public string Packages { get; }

    /// <summary>Writes the project under <paramref name="root"/>: <paramref name="program"/> as Program.cs, a
    /// PackageReference to exactly <paramref name="packageId"/> <paramref name="version"/>, and a NuGet.config naming
    /// <paramref name="feed"/> and, when given, <paramref name="readOnlySource"/> for every package not named FileAio*.</summary>
    public static ConsumerProject Write(string root, string feed, string version, string program,
        string packageId = "FileAio", string? readOnlySource = null)
    {
        var consumer = new ConsumerProject(root);
        Directory.CreateDirectory(consumer.ProjectDirectory);
        foreach (string stop in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(root, stop), "<Project />\n");
        }
        string otherSource = readOnlySource is null ? "" : $"""
            <add key="machine" value="{readOnlySource}" />
            """;
        string mapping = readOnlySource is null ? "" : """
            <packageSourceMapping>
                <packageSource key="local">
                  <package pattern="FileAio" />
                  <package pattern="FileAio.*" />
                </packageSource>
                <packageSource key="machine">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            """;
        File.WriteAllText(Path.Combine(consumer.ProjectDirectory, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{consumer.Packages}" />
              </config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                {otherSource}
              </packageSources>
              {mapping}
              <fallbackPackageFolders>
                <clear />
              </fallbackPackageFolders>
            </configuration>

            """);
        // Warnings as errors: the example must also compile cleanly, as a reader's project with that setting would.
        File.WriteAllText(Path.Combine(consumer.ProjectDirectory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{packageId}" Version="[{version}]" />
              </ItemGroup>
            </Project>

            """);
        File.WriteAllText(Path.Combine(consumer.ProjectDirectory, "Program.cs"), program);
        return consumer;
    }

    public Task<DotnetCommand.Result> RestoreAsync() => DotnetCommand.RunAsync(ProjectDirectory, s_restoreLimit,
        ["restore", "-nologo", "--disable-build-servers", "--configfile", Path.Combine(ProjectDirectory, "NuGet.config")], _environment);

    public Task<DotnetCommand.Result> BuildAsync() => DotnetCommand.RunAsync(ProjectDirectory, s_buildLimit,
        ["build", "-nologo", "--disable-build-servers", "--no-restore"], _environment);

    public Task<DotnetCommand.Result> RunAsync() => DotnetCommand.RunAsync(ProjectDirectory, s_runLimit,
        ["run", "--no-build"], _environment);
}
