using System.Reflection;
using System.Runtime.InteropServices;
using FileAio.Interop.PosixAio;

namespace FileAio.Tests.Abi;

/// <summary>
/// The POSIX AIO imports, read from their <see cref="LibraryImportAttribute"/>s: each platform's class names the
/// library aio-abi.md gives for it (glibc §2.1, FreeBSD §3.1, macOS §4), the entry points an engine needs, and sets
/// the last error. Runs everywhere: nothing is loaded. (On glibc, <see cref="PosixAioGlibcLiveTests"/> also resolves
/// and calls them.)
/// </summary>
public sealed class PosixAioImportTests
{
    private static readonly string[] s_aio =
        ["aio_read", "aio_write", "aio_fsync", "lio_listio", "aio_error", "aio_return", "aio_cancel", "aio_suspend"];

    /// <summary>The entry points a class imports.</summary>
    internal static IEnumerable<string> EntryPoints(Type imports) =>
        Imports(imports).Select(i => i.Attribute.EntryPoint ?? i.Method.Name);

    private static IEnumerable<(MethodInfo Method, LibraryImportAttribute Attribute)> Imports(Type imports) =>
        from method in imports.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
        let attribute = method.GetCustomAttribute<LibraryImportAttribute>()
        where attribute is not null
        select (method, attribute);

    public static TheoryData<string, string, string[]> Platforms => new()
    {
        { nameof(GlibcAio), "librt.so.1", [.. s_aio, "aio_init"] },
        { nameof(FreeBsdAio), "libc.so.7", [.. s_aio, "aio_readv", "aio_writev", "kqueue", "kevent"] },
        { nameof(MacAio), "libc", s_aio },
    };

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Imports_NameTheDocumentedLibraryAndEntryPoints(string className, string library, string[] entryPoints)
    {
        Type imports = typeof(GlibcAio).Assembly.GetType("FileAio.Interop.PosixAio." + className, throwOnError: true)!;
        var found = Imports(imports).ToList();
        Assert.All(found, i => Assert.Equal(library, i.Attribute.LibraryName));
        Assert.Equal(entryPoints.Order(StringComparer.Ordinal), EntryPoints(imports).Order(StringComparer.Ordinal));
        // errno is read after a -1 from each of them; aio_init returns nothing and reports no error.
        Assert.All(found.Where(i => i.Attribute.EntryPoint != "aio_init"),
            i => Assert.True(i.Attribute.SetLastError, i.Attribute.EntryPoint + " does not set the last error"));
    }
}
