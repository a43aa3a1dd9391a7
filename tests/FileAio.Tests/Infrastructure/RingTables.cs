namespace FileAio.Tests.Infrastructure;

/// <summary>
/// The registered files and buffers of one host's io_uring instances (tests in other classes run rings of their own
/// beside it), as the kernel lists them in
/// /proc/self/fdinfo of each ring (<c>UserFiles:</c> then one <c>index: path</c> line per filled slot, <c>UserBufs:</c>
/// then one <c>index: 0xaddress/length</c> line per slot, <c>index: &lt;none&gt;</c> for a cleared one): read independently of the library's own books.
/// </summary>
internal static partial class RingTables
{
    /// <summary>How many filled registered-file slots of <paramref name="host"/>'s rings name <paramref name="path"/>.</summary>
    public static int FileEntries(AioEngineHost host, string path) =>
        Sections(host, "UserFiles:").Count(entry => entry.EndsWith(" " + path, StringComparison.Ordinal) || entry.EndsWith("\t" + path, StringComparison.Ordinal));

    /// <summary>All filled registered-buffer slots of <paramref name="host"/>'s rings, as (address, length).</summary>
    public static IReadOnlyList<(ulong Address, ulong Length)> BufferEntries(AioEngineHost host) =>
        [.. Sections(host, "UserBufs:").Where(entry => !entry.EndsWith("<none>", StringComparison.Ordinal)).Select(entry =>
        {
            System.Text.RegularExpressions.Match match = BufferEntry().Match(entry);
            Assert.True(match.Success, $"a registered-buffer line the test cannot read: '{entry}'");
            return (Convert.ToUInt64(match.Groups[1].Value, 16),
                ulong.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        })];

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d+: 0x([0-9a-fA-F]+)/(\d+)$")]
    private static partial System.Text.RegularExpressions.Regex BufferEntry();

    /// <summary>The entry lines under <paramref name="header"/> in the fdinfo of each of <paramref name="host"/>'s rings.</summary>
    private static IEnumerable<string> Sections(AioEngineHost host, string header)
    {
        foreach (FileAio.Async.EngineLoop loop in host.EngineLoops)
        {
            if (loop.Engine is not FileAio.Engines.IoUring.IoUringEngine ring)
            {
                continue;
            }
            string[] lines = File.ReadAllLines($"/proc/self/fdinfo/{ring.RingFd}");
            bool inside = false;
            foreach (string line in lines)
            {
                if (line.StartsWith(header, StringComparison.Ordinal))
                {
                    inside = true;
                    continue;
                }
                if (inside && line.Length > 0 && char.IsWhiteSpace(line[0]) && line.Trim().Length > 0 && char.IsDigit(line.Trim()[0]))
                {
                    yield return line.Trim();
                }
                else if (inside)
                {
                    inside = false;
                }
            }
        }
    }
}
