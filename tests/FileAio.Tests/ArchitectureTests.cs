using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnitV3;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace FileAio.Tests;

/// <summary>
/// The layering the design promises, read off the compiled library (every type reference, method bodies included):
/// the public API on top, then the async layer, the engines, the platform facts and the kernel declarations, each
/// depending only on what is below it. Data flows one way.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Architecture s_library =
        new ArchLoader().LoadAssemblies(typeof(AioContext).Assembly).Build();

    /// <summary>The library's namespaces, top to bottom: each may depend only on those after it.</summary>
    private static readonly string[] s_layers =
    [
        "FileAio",
        "FileAio.Async",
        "FileAio.Engines.IoUring",
        "FileAio.Engines.LinuxAio",
        "FileAio.Engines.PosixAio",
        "FileAio.Engines.ThreadPool",
        "FileAio.Engines",
        "FileAio.Platform",
        "FileAio.Buffers",
        "FileAio.Interop.PosixAio",
        "FileAio.Interop",
    ];

    [Fact]
    public void TheModel_SeesTheDependenciesThatExist()
    {
        // The rules below would pass vacuously on a model without dependencies: check it sees the known ones.
        Assert.Contains("FileAio.AioContext -> FileAio.Engines.IAioEngine", DependenciesOutside("FileAio", allowed: []));
        Assert.Contains(DependenciesOutside("FileAio.Async", allowed: []), d => d.EndsWith("-> FileAio.Engines.IoOperation", StringComparison.Ordinal));
        var wrongWay = Types().That().ResideInNamespace("FileAio.Async").Should().NotDependOnAny(
            Types().That().ResideInNamespace("FileAio.Engines"));
        Assert.False(wrongWay.HasNoViolations(s_library));
    }

    [Fact]
    public void Engines_DependOnNoPublicContractOrAsyncType()
    {
        IArchRule rule = Types().That().ResideInNamespace("FileAio.Engines")
            .Or().ResideInNamespace("FileAio.Engines.IoUring")
            .Or().ResideInNamespace("FileAio.Engines.LinuxAio")
            .Or().ResideInNamespace("FileAio.Engines.PosixAio")
            .Or().ResideInNamespace("FileAio.Engines.ThreadPool")
            .Should().NotDependOnAny(Types().That().HaveFullName("FileAio.AioRequest")
                .Or().HaveFullName("FileAio.AioContext")
                .Or().HaveFullName("FileAio.AioFile")
                .Or().HaveFullName("FileAio.AioEngineHost")
                .Or().ResideInNamespace("FileAio.Async"));
        rule.Check(s_library);
    }

    [Fact]
    public void Interop_DependsOnNothingElseOfFileAio()
    {
        Assert.Empty(DependenciesOutside("FileAio.Interop", allowed: []));
        // The POSIX AIO declarations are self-contained too: each platform's numbers stand on their own.
        Assert.Empty(DependenciesOutside("FileAio.Interop.PosixAio", allowed: []));
    }

    [Fact]
    public void EveryNamespace_DependsOnlyOnTheLayersBelowIt_SoThereAreNoCycles()
    {
        var violations = new List<string>();
        for (int i = 0; i < s_layers.Length; i++)
        {
            violations.AddRange(DependenciesOutside(s_layers[i], allowed: s_layers[(i + 1)..]));
        }
        Assert.Empty(violations);
        // And every namespace of the library is one of the layers (a new one must be placed).
        string[] unplaced = s_library.Types.Select(t => t.Namespace.FullName).Distinct()
            .Where(n => n.StartsWith("FileAio", StringComparison.Ordinal) && !s_layers.Contains(n)).ToArray();
        Assert.True(unplaced.Length == 0, "Namespaces in no layer: " + string.Join(", ", unplaced));
    }

    /// <summary>"Type -> target" for every dependency of a type in <paramref name="ns"/> on a FileAio type in another
    /// namespace than <paramref name="ns"/> and the <paramref name="allowed"/> ones.</summary>
    private static IEnumerable<string> DependenciesOutside(string ns, string[] allowed) =>
        from type in s_library.Types
        where type.Namespace.FullName == ns
        from dependency in type.Dependencies
        let target = dependency.Target.Namespace.FullName
        where target.StartsWith("FileAio", StringComparison.Ordinal) && target != ns && !allowed.Contains(target)
        select $"{type.FullName} -> {dependency.Target.FullName}";
}
