using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace FileAio.Tests;

/// <summary>
/// Time is measured on one clock, the monotonic one (<see cref="System.Diagnostics.Stopwatch"/>), in the library and
/// in its tests. The wall clock (<see cref="DateTime.UtcNow"/>) can be stepped while a test runs — by NTP, or when a
/// virtual machine is resumed and its clock set right — and a budget measured on it then runs out at once: a drain that
/// has waited a millisecond reports its write as hung. Read off the compiled assemblies, method bodies included.
/// </summary>
public sealed class MonotonicClockTests
{
    private static readonly Architecture s_code =
        new ArchLoader().LoadAssemblies(typeof(AioContext).Assembly, typeof(MonotonicClockTests).Assembly).Build();

    /// <summary>The wall clock's types: any use of them in this code is a reading of the wall clock (nothing here
    /// keeps dates).</summary>
    private static readonly string[] s_wallClockTypes = ["System.DateTime", "System.DateTimeOffset"];

    [Fact]
    public void TheModel_SeesDependenciesOnFrameworkTypes()
    {
        // The rule below would pass vacuously if calls into the framework were not modelled: the library's deadline
        // reads the Stopwatch.
        Assert.Contains("FileAio.Engines.Deadline -> System.Diagnostics.Stopwatch", DependenciesOn(["System.Diagnostics.Stopwatch"]));
    }

    [Fact]
    public void NeitherTheLibraryNorItsTests_ReadTheWallClock()
    {
        string[] readers = DependenciesOn(s_wallClockTypes).ToArray();
        Assert.True(readers.Length == 0, "Read the wall clock (measure with a Stopwatch instead): " + string.Join(", ", readers));
    }

    /// <summary>"Type -> target" for every dependency of a FileAio type (library or test) on one of
    /// <paramref name="targets"/>.</summary>
    private static IEnumerable<string> DependenciesOn(string[] targets) =>
        (from type in s_code.Types
         where type.Namespace.FullName.StartsWith("FileAio", StringComparison.Ordinal)
         from dependency in type.Dependencies
         where targets.Contains(dependency.Target.FullName)
         select $"{type.FullName} -> {dependency.Target.FullName}").Distinct();
}
