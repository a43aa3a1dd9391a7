namespace FileAio.Cli.Bench;

/// <summary>The command-line and JSON names of <see cref="BenchApi"/> and <see cref="ReadWriteMode"/>.</summary>
internal static class BenchNames
{
    public const string ApiChoices = "context, file, file-inline, loop, randomaccess, sync, filestream";
    public const string RwChoices = "read, write, randread, randwrite, randrw, wal";

    /// <summary>An <c>--api</c> word (a <see cref="Commands.ValueReader{T}"/>): null, or why it names no api.</summary>
    public static string? ReadApi(string text, out BenchApi api)
    {
        (bool known, api) = text.ToLowerInvariant() switch
        {
            "context" => (true, BenchApi.Context),
            "file" => (true, BenchApi.File),
            "loop" => (true, BenchApi.Loop),
            "file-inline" => (true, BenchApi.FileInline),
            "randomaccess" => (true, BenchApi.RandomAccess),
            "sync" => (true, BenchApi.Sync),
            "filestream" => (true, BenchApi.FileStream),
            _ => (false, BenchApi.Context),
        };
        return known ? null : $"unknown api '{text}' (choose {ApiChoices})";
    }

    public static string Name(BenchApi api) => api switch
    {
        BenchApi.Context => "context",
        BenchApi.File => "file",
        BenchApi.Loop => "loop",
        BenchApi.FileInline => "file-inline",
        BenchApi.RandomAccess => "randomaccess",
        BenchApi.Sync => "sync",
        BenchApi.FileStream => "filestream",
        _ => api.ToString(),
    };

    /// <summary>An <c>--rw</c> word (a <see cref="Commands.ValueReader{T}"/>): null, or why it names no pattern.</summary>
    public static string? ReadRw(string text, out ReadWriteMode rw)
    {
        (bool known, rw) = text.ToLowerInvariant() switch
        {
            "read" => (true, ReadWriteMode.Read),
            "write" => (true, ReadWriteMode.Write),
            "randread" => (true, ReadWriteMode.RandRead),
            "randwrite" => (true, ReadWriteMode.RandWrite),
            "randrw" => (true, ReadWriteMode.RandRw),
            "wal" => (true, ReadWriteMode.Wal),
            _ => (false, ReadWriteMode.RandRead),
        };
        return known ? null : $"unknown pattern '{text}' (choose {RwChoices})";
    }

    public static string Name(ReadWriteMode rw) => rw.ToString().ToLowerInvariant();

    public static bool Writes(ReadWriteMode rw) => rw is ReadWriteMode.Write or ReadWriteMode.RandWrite or ReadWriteMode.RandRw or ReadWriteMode.Wal;

    /// <summary>The apis that run <see cref="ReadWriteMode.Wal"/>, and the default set for it.</summary>
    public static readonly BenchApi[] WalApis = [BenchApi.File, BenchApi.FileStream];

    /// <summary>Every api that runs <see cref="ReadWriteMode.Wal"/>: the defaults and FileAio's other async modes.</summary>
    private static readonly BenchApi[] s_walCapable = [BenchApi.File, BenchApi.FileInline, BenchApi.Loop, BenchApi.FileStream];

    /// <summary>Whether <paramref name="api"/> runs <paramref name="rw"/>: the wal pattern needs a flush per write
    /// (file, filestream), and filestream runs nothing else.</summary>
    public static bool Runs(BenchApi api, ReadWriteMode rw) =>
        rw == ReadWriteMode.Wal ? s_walCapable.Contains(api) : api != BenchApi.FileStream;

    public static bool IsRandom(ReadWriteMode rw) => rw is ReadWriteMode.RandRead or ReadWriteMode.RandWrite or ReadWriteMode.RandRw;
}
