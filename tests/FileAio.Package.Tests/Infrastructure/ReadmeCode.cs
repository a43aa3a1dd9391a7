using System.Text.RegularExpressions;

namespace FileAio.Package.Tests.Infrastructure;

/// <summary>The C# in a Markdown page: its ```csharp fences, in order, so a page's example can be compiled as written.</summary>
internal static partial class ReadmeCode
{
    public static IReadOnlyList<string> CSharpBlocks(string markdown) =>
        Fence().Matches(markdown.ReplaceLineEndings("\n")).Select(m => m.Groups["code"].Value).ToList();

    [GeneratedRegex(@"^```csharp\n(?<code>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();
}
