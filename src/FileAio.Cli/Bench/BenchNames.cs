namespace FileAio.Cli.Bench;

/// <summary>The command-line and JSON names of <see cref="BenchApi"/> and <see cref="ReadWriteMode"/>.</summary>
internal static class BenchNames
{
    public const string ApiChoices = "context, file, randomaccess, sync";
    public const string RwChoices = "read, write, randread, randwrite, randrw";

    public static BenchApi ParseApi(string text) => text.ToLowerInvariant() switch
    {
        "context" => BenchApi.Context,
        "file" => BenchApi.File,
        "randomaccess" => BenchApi.RandomAccess,
        "sync" => BenchApi.Sync,
        _ => throw new UsageException($"--api: unknown api '{text}' (choose {ApiChoices})"),
    };

    public static string Name(BenchApi api) => api switch
    {
        BenchApi.Context => "context",
        BenchApi.File => "file",
        BenchApi.RandomAccess => "randomaccess",
        BenchApi.Sync => "sync",
        _ => api.ToString(),
    };

    public static ReadWriteMode ParseRw(string text) => text.ToLowerInvariant() switch
    {
        "read" => ReadWriteMode.Read,
        "write" => ReadWriteMode.Write,
        "randread" => ReadWriteMode.RandRead,
        "randwrite" => ReadWriteMode.RandWrite,
        "randrw" => ReadWriteMode.RandRw,
        _ => throw new UsageException($"--rw: unknown pattern '{text}' (choose {RwChoices})"),
    };

    public static string Name(ReadWriteMode rw) => rw.ToString().ToLowerInvariant();

    public static bool Writes(ReadWriteMode rw) => rw is ReadWriteMode.Write or ReadWriteMode.RandWrite or ReadWriteMode.RandRw;

    public static bool IsRandom(ReadWriteMode rw) => rw is ReadWriteMode.RandRead or ReadWriteMode.RandWrite or ReadWriteMode.RandRw;
}
