using System.Buffers.Binary;
using System.IO.Compression;
using System.Xml.Linq;
using FileAio.Cli.Tests.Infrastructure;

namespace FileAio.Cli.Tests;

/// <summary>
/// The tool as it ships (docs/cli.md, "Installing the tool"): the packages that <c>dotnet pack</c> makes from
/// src/FileAio.Cli, installed with <c>dotnet tool install</c> from a folder feed and run as a user runs it. Packing and
/// installing happen once for the class (<see cref="InstalledTool"/>); the NativeAOT build takes about a minute here.
/// </summary>
public sealed class ToolPackageTests : IClassFixture<InstalledTool>
{
    private static readonly TimeSpan s_runLimit = TimeSpan.FromMinutes(2);
    private readonly InstalledTool _tool;

    public ToolPackageTests(InstalledTool tool)
    {
        _tool = tool;
    }

    [Fact]
    public void RidPackage_NativeAot_HoldsTheProgramItsRidsNativeLibrariesAndTheFontWithin20MB()
    {
        SkipUnlessAvailable();
        long size = new FileInfo(_tool.RidPackage).Length;
        Assert.True(size <= InstalledTool.MaxPackageBytes, $"{Path.GetFileName(_tool.RidPackage)} is {size:N0} bytes, over {InstalledTool.MaxPackageBytes:N0}");

        using ZipArchive package = ZipFile.OpenRead(_tool.RidPackage);
        string folder = $"tools/any/{InstalledTool.Rid}/";
        string[] files = [.. package.Entries.Select(e => e.FullName).Where(n => n.StartsWith("tools/", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        // Exactly what runs: the native program (no managed assembly, no runtimeconfig: nothing for a dotnet host),
        // this RID's SkiaSharp and HarfBuzzSharp libraries for --plot, the plot's font with its licence, and the tool's
        // settings; no other platform's libraries, no symbols, no API docs.
        Assert.Equal(
            new[] { "DotnetToolSettings.xml", "FileAio.Cli", "Plot/Fonts/DejaVuSansMono.ttf", "Plot/Fonts/LICENSE.txt", "libHarfBuzzSharp.so", "libSkiaSharp.so" }
                .Select(f => folder + f).Order(StringComparer.Ordinal),
            files);

        XElement command = ToolSettings(package, folder + "DotnetToolSettings.xml").Descendants("Command").Single();
        Assert.Equal("fileaio", (string?)command.Attribute("Name"));
        Assert.Equal("executable", (string?)command.Attribute("Runner"));
        Assert.Equal("FileAio.Cli", (string?)command.Attribute("EntryPoint"));
    }

    [Fact]
    public void PointerPackage_ListsEveryRidPackageAndThePortableFallback()
    {
        SkipUnlessAvailable();
        using ZipArchive package = ZipFile.OpenRead(_tool.PointerPackage);

        XElement settings = ToolSettings(package, "tools/any/any/DotnetToolSettings.xml");
        Assert.Equal(
            ["linux-x64 FileAio.Cli.linux-x64", "linux-arm64 FileAio.Cli.linux-arm64", "any FileAio.Cli.any"],
            settings.Descendants("RuntimeIdentifierPackage").Select(p => $"{(string?)p.Attribute("RuntimeIdentifier")} {(string?)p.Attribute("Id")}"));
        Assert.DoesNotContain(package.Entries, e => e.FullName.EndsWith(".so", StringComparison.Ordinal) || e.FullName.EndsWith(".dll", StringComparison.Ordinal));
    }

    [Fact]
    public void Version_PrintsTheVersionThatWasPacked()
    {
        SkipUnlessAvailable();
        ChildProcess.Result run = _tool.Run(s_runLimit, "--version");

        Assert.True(run.Succeeded, run.ToString());
        Assert.StartsWith(_tool.Version, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_ListsEveryEngine()
    {
        SkipUnlessAvailable();
        ChildProcess.Result run = _tool.Run(s_runLimit, "info", _tool.WorkDirectory);

        Assert.True(run.Succeeded, run.ToString());
        foreach (string engine in new[] { "io_uring", "linux-aio", "posix-aio", "threadpool" })
        {
            Assert.Contains($"│ {engine} ", run.Output, StringComparison.Ordinal);
        }
        Assert.Contains("auto picks ", run.Output, StringComparison.Ordinal);
        Assert.Contains("direct I/O", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void BenchWithPlot_OneSecondCases_PrintsTheTableAndDrawsAPng()
    {
        SkipUnlessAvailable();
        string data = Path.Combine(_tool.WorkDirectory, "bench.dat");
        string plot = Path.Combine(_tool.WorkDirectory, "bench.png");

        ChildProcess.Result run = _tool.Run(s_runLimit,
            "bench", "--file", data, "--size", "8m", "--runtime", "1", "--warmup", "0.2", "--api", "context", "--plot", plot);

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("randread 4k qd32", run.Output, StringComparison.Ordinal);
        byte[] png = File.ReadAllBytes(plot);
        Assert.Equal<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png.AsSpan(0, 8).ToArray());
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        int height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        Assert.True(width > 0 && height > 0, $"{width} x {height}");
        // Two cases draw 1600 x 360 pixels: a blank canvas of that size deflates to about 3 KB, the plot with its bars
        // and its text in the bundled font to 30-40 KB, so 10 KB tells the one from the other.
        Assert.True(png.Length > 10_000, $"the plot ({width} x {height}) is only {png.Length} bytes\n{run}");
    }

    private static void SkipUnlessAvailable() =>
        Assert.SkipWhen(InstalledTool.UnavailableReason is not null, InstalledTool.UnavailableReason ?? "");

    private static XElement ToolSettings(ZipArchive package, string entry)
    {
        ZipArchiveEntry settings = package.GetEntry(entry) ?? throw new InvalidOperationException(
            $"no {entry} in the package; it holds: {string.Join(", ", package.Entries.Select(e => e.FullName))}");
        using Stream stream = settings.Open();
        return XElement.Load(stream);
    }
}
