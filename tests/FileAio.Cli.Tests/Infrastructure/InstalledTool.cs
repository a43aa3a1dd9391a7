using System.Runtime.InteropServices;

namespace FileAio.Cli.Tests.Infrastructure;

/// <summary>
/// The <c>fileaio</c> tool as a user gets it, built once for the tests of <see cref="ToolPackageTests"/>: the pointer
/// package and the NativeAOT package of this machine's RID packed from src/FileAio.Cli into a folder feed, then
/// installed from that feed with <c>dotnet tool install --tool-path</c>, all under one temporary directory that is
/// removed at the end.
/// </summary>
/// <remarks>
/// The build gets its own <c>--artifacts-path</c>, so it touches no bin/ or obj/ of the repository (a test run may be
/// building there). It uses the machine's NuGet packages folder, where the NativeAOT compiler packages stay between runs
/// (a private one would download them every time); the tool's own packages never go there, and each run gets a version
/// of its own (the repository's VersionPrefix with a suffix of the run's), so no run can install what another packed.
/// </remarks>
public sealed class InstalledTool : IDisposable
{
    /// <summary>The limit for the linux-x64 package, in bytes (20 MB).</summary>
    public const long MaxPackageBytes = 20_000_000;

    // Measured here on 2 busy cores: the pointer package (which builds both projects) 18 s, then the NativeAOT package
    // 22-45 s. The limits only stop a hung build; a first run on a new machine may also download the compiler packages.
    private static readonly TimeSpan s_packLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_installLimit = TimeSpan.FromMinutes(2);

    private const string PackageId = "FileAio.Cli";

    public InstalledTool()
    {
        if (UnavailableReason is not null)
        {
            return;
        }
        Root = Path.Combine(Path.GetTempPath(), "fileaio-tool-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        WorkDirectory = Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
        // A prerelease that no other run or release has: yyyyMMddHHmmss never starts with 0, as SemVer wants.
        string suffix = FormattableString.Invariant($"tooltest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}");
        string feed = Path.Combine(Root, "feed");
        try
        {
            string project = Path.Combine(RepositoryRoot(), "src", "FileAio.Cli", "FileAio.Cli.csproj");
            Dotnet(s_packLimit, "pack", project, "-c", "Release", "-o", feed, "--version-suffix", suffix);
            PointerPackage = Directory.GetFiles(feed, $"{PackageId}.*-{suffix}.nupkg").Single();
            Version = Path.GetFileNameWithoutExtension(PointerPackage)[(PackageId.Length + 1)..];
            Dotnet(s_packLimit, "pack", project, "-c", "Release", "-r", Rid, "-o", feed, "--version-suffix", suffix);
            RidPackage = Path.Combine(feed, $"{PackageId}.{Rid}.{Version}.nupkg");

            // Only the feed: nothing from the machine's or the user's NuGet sources, where a package of that name
            // could be something else.
            string config = Path.Combine(Root, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="tool-test-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            string toolPath = Path.Combine(Root, "tools");
            Dotnet(s_installLimit, "tool", "install", PackageId, "--version", Version, "--tool-path", toolPath, "--configfile", config);
            Command = Path.Combine(toolPath, "fileaio");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Why the tool cannot be packed and run here, or null. Its NativeAOT packages are for glibc Linux on
    /// x64 and arm64 (ToolPackageRuntimeIdentifiers in the project), and NativeAOT links with clang, or gcc where there
    /// is no clang (the ILCompiler package's targets); .ci/run installs gcc, so CI does not skip.</summary>
    public static string? UnavailableReason { get; } =
        !OperatingSystem.IsLinux() ? "the tool's NativeAOT packages are for Linux"
        : RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal) ? "the tool's NativeAOT packages are for glibc, not musl"
        : RuntimeInformation.OSArchitecture is not (Architecture.X64 or Architecture.Arm64) ? $"the tool has no NativeAOT package for {RuntimeInformation.OSArchitecture}"
        : !OnPath("clang") && !OnPath("gcc") ? "NativeAOT links with clang or gcc, and neither is on the PATH (apt-get install gcc libc6-dev)"
        : null;

    /// <summary>This machine's RID, as the tool's packages name it: linux-x64 or linux-arm64.</summary>
    public static string Rid { get; } = "linux-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    /// <summary>The packages' version: the repository's VersionPrefix and this run's suffix.</summary>
    public string Version { get; } = "";

    public string Root { get; } = "";

    /// <summary>A directory for the tool's own files (the bench's data file and plot).</summary>
    public string WorkDirectory { get; } = "";

    public string PointerPackage { get; } = "";

    public string RidPackage { get; } = "";

    /// <summary>The installed <c>fileaio</c> command.</summary>
    public string Command { get; } = "";

    internal ChildProcess.Result Run(TimeSpan limit, params string[] arguments) =>
        ChildProcess.Run(Command, arguments, WorkDirectory, limit);

    private void Dotnet(TimeSpan limit, params string[] arguments)
    {
        // The build servers would outlive the test (and its temporary directory); MSBuild's variables, inherited when
        // the tests run under `dotnet test`, would point the child at the parent's build instead of its own.
        string[] all = arguments[0] == "pack" ? [.. arguments, "--artifacts-path", Path.Combine(Root, "artifacts"), "--disable-build-servers"] : arguments;
        var environment = new Dictionary<string, string?>
        {
            ["MSBUILD*"] = null,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        ChildProcess.Result result = ChildProcess.Run(DotnetHost(), all, Root, limit, environment);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(result.ToString());
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));

    /// <summary>The repository's root: the directory above this test's output that holds FileAio.slnx.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FileAio.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no FileAio.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>The dotnet host that runs this test process: DOTNET_HOST_PATH when the SDK set it, else the one three
    /// levels above the runtime directory (…/dotnet/shared/Microsoft.NETCore.App/10.0.x/), else "dotnet" on the PATH
    /// (as tests/FileAio.Tests/Infrastructure/FreshProcess.cs finds it).</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }
        string beside = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(beside) ? beside : "dotnet";
    }

    public void Dispose()
    {
        if (Root.Length > 0 && Directory.Exists(Root))
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
