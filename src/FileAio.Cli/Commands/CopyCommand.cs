using System.CommandLine;
using FileAio.Cli.Copy;
using FileAio.Cli.Platform;

namespace FileAio.Cli.Commands;

/// <summary><c>fileaio copy SRC DST</c>: a deep-queue pipelined copy through FileAio, fsync'd, optionally verified,
/// keeping SRC's mode, times and (when permitted) owner as <c>cp -p</c> does, that never leaves a half-written file
/// under the destination's name (<see cref="FileCopier"/>).</summary>
internal static class CopyCommand
{
    private const int DefaultBlockSize = 256 << 10;

    public static Command Create(Terminal terminal)
    {
        var source = new Argument<string>("SRC") { Description = "The file to copy." };
        var destination = new Argument<string>("DST") { Description = "The new file (or an existing directory to copy into)." };
        var bs = new Option<int?>("--bs") { Description = "Bytes per read and write. Default: 256k.", HelpName = "SIZE", CustomParser = r => OptionParsers.One<int>(r, OptionParsers.BlockSize) };
        var iodepth = new Option<int>("--iodepth") { Description = "Chunks in flight at once.", DefaultValueFactory = _ => 32, HelpName = "N", CustomParser = r => OptionParsers.One(r, OptionParsers.WholeNumber(1, 4096)) };
        var direct = new Option<bool>("--direct") { Description = "O_DIRECT on both files (bypass the page cache); any file size works." };
        var engine = new Option<AioEngineKind?>("--engine") { Description = $"FileAio engine: {EngineNames.Choices}. Default: auto.", HelpName = "ENGINE", CustomParser = r => OptionParsers.One<AioEngineKind>(r, EngineNames.Read) };
        var verify = new Option<bool>("--verify") { Description = "After the copy is on disk, read both files back and compare them before giving the copy its name." };
        var force = new Option<bool>("--force") { Description = "Replace DST if it exists." };
        var command = new Command("copy", "Copy a file with a deep queue of asynchronous reads and writes, fsync at the end.")
        {
            source, destination, bs, iodepth, direct, engine, verify, force,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            CopyOptions options = Check(
                parse.GetValue(source)!, parse.GetValue(destination)!, parse.GetValue(bs) ?? DefaultBlockSize, parse.GetValue(iodepth),
                parse.GetValue(direct), parse.GetValue(engine) ?? AioEngineKind.Auto, parse.GetValue(verify), parse.GetValue(force));
            CopyResult result = terminal.WithProgress(scope => FileCopier.Run(options, scope, cancellationToken));
            terminal.Out.WriteLine(result.Describe(options));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary>Checks what the parser cannot: that the engine runs here, and the two paths.</summary>
    private static CopyOptions Check(string source, string destination, int blockSize, int depth, bool direct, AioEngineKind engine, bool verify, bool force)
    {
        EngineNames.RequireSupported(engine);

        string src = Path.GetFullPath(source);
        if (Directory.Exists(src))
        {
            throw new UsageException($"SRC {src} is a directory; copy copies one file");
        }
        if (!File.Exists(src))
        {
            throw IoFailureException.FromErrno("open", src, ErrnoText.ENOENT);
        }
        string dst = Path.GetFullPath(destination);
        if (Directory.Exists(dst))
        {
            dst = Path.Combine(dst, Path.GetFileName(src));
        }
        if (Directory.Exists(dst))
        {
            throw new UsageException($"DST {dst} is a directory");
        }
        if (!Directory.Exists(Path.GetDirectoryName(dst)))
        {
            throw IoFailureException.FromErrno("create", dst, ErrnoText.ENOENT);
        }
        if (File.Exists(dst))
        {
            if (FileSystemCalls.RealPath(dst) == FileSystemCalls.RealPath(src))
            {
                throw new UsageException($"SRC and DST are the same file ({src})");
            }
            if (!force)
            {
                throw new UsageException($"{dst} exists; add --force to replace it");
            }
        }
        return new CopyOptions(src, dst, blockSize, depth, direct, engine, verify);
    }
}
