using System.CommandLine;
using FileAio.Cli.Verify;

namespace FileAio.Cli.Commands;

/// <summary><c>fileaio verify PATH</c>: write self-checking blocks and read them back (or, with <c>--read-only</c>,
/// check an existing pattern file). Prints each bad block; exit 1 on any, 0 when clean.</summary>
internal static class VerifyCommand
{
    // Printing stops here; the count of the rest follows. A whole bad disk should not flood the terminal.
    private const int MaxPrintedBlocks = 1000;
    private const int DefaultBlockSize = 64 << 10;
    private const long DefaultSize = 256L << 20;

    public static Command Create(Terminal terminal)
    {
        var path = new Argument<string>("PATH") { Description = "The file to write and check (or only check, with --read-only)." };
        path.Validators.Add(result =>
        {
            string full = Path.GetFullPath(result.GetValueOrDefault<string>()); // a string: nothing that can fail to convert
            if (Directory.Exists(full))
            {
                result.AddError($"{full} is a directory; give a file name");
            }
        });
        var size = new Option<long?>("--size") { Description = "Bytes to write: a multiple of --bs. Default: 256m.", HelpName = "SIZE", CustomParser = r => OptionParsers.One<long>(r, Sizes.Read) };
        var bs = new Option<int?>("--bs") { Description = $"Block size, at least {PatternBlock.MinimumSize} (default 64k; with --read-only, read from the file).", HelpName = "SIZE", CustomParser = r => OptionParsers.One<int>(r, PatternBlockSize) };
        var iodepth = new Option<int>("--iodepth") { Description = "Blocks in flight at once.", DefaultValueFactory = _ => 16, HelpName = "N", CustomParser = r => OptionParsers.One(r, OptionParsers.WholeNumber(1, 4096)) };
        var direct = new Option<bool>("--direct") { Description = "O_DIRECT: write and read the device, not the page cache." };
        var engine = new Option<AioEngineKind?>("--engine") { Description = $"FileAio engine: {EngineNames.Choices}. Default: auto.", HelpName = "ENGINE", CustomParser = r => OptionParsers.One<AioEngineKind>(r, EngineNames.Read) };
        var seed = new Option<ulong?>("--seed") { Description = "The run's seed (default: a new one, printed). With --read-only: the seed to expect (default: the file's own).", HelpName = "N", CustomParser = r => OptionParsers.One<ulong>(r, Seeds.Read) };
        var readOnly = new Option<bool>("--read-only") { Description = "Do not write: check the pattern already in PATH." };
        var force = new Option<bool>("--force") { Description = "Overwrite PATH if it exists." };
        var command = new Command("verify", "Write blocks that carry their offset, a seed and a checksum, read them back and check every one.")
        {
            path, size, bs, iodepth, direct, engine, seed, readOnly, force,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            VerifyOptions options = Check(
                parse.GetValue(path)!, parse.GetValue(size), parse.GetValue(bs), parse.GetValue(iodepth), parse.GetValue(direct),
                parse.GetValue(engine) ?? AioEngineKind.Auto, parse.GetValue(seed), parse.GetValue(readOnly), parse.GetValue(force));
            VerifyReport report = terminal.WithProgress(scope => PatternVerifier.Run(options, scope, cancellationToken));
            return Task.FromResult(Print(terminal.Out, options, report));
        });
        return command;
    }

    /// <summary>A block size that holds a pattern block's header.</summary>
    private static string? PatternBlockSize(string text, out int value) =>
        OptionParsers.BlockSize(text, out value)
        ?? (value < PatternBlock.MinimumSize ? $"'{text}' is too small; a pattern block needs at least {PatternBlock.MinimumSize} bytes" : null);

    /// <summary>Checks what the parser cannot: that the engine runs here, the options that depend on each other, and
    /// the file.</summary>
    private static VerifyOptions Check(
        string path, long? sizeGiven, int? blockSize, int depth, bool direct, AioEngineKind engine, ulong? seed, bool readOnly, bool force)
    {
        EngineNames.RequireSupported(engine);
        string full = Path.GetFullPath(path);

        if (readOnly)
        {
            if (sizeGiven is not null)
            {
                throw new UsageException("--size has no meaning with --read-only: the whole file is checked");
            }
            if (!File.Exists(full))
            {
                throw IoFailureException.FromErrno("open", full, ErrnoText.ENOENT);
            }
            return new VerifyOptions(full, 0, blockSize, depth, direct, engine, seed, ReadOnly: true);
        }

        blockSize ??= DefaultBlockSize;
        long size = sizeGiven ?? DefaultSize;
        if (size <= 0 || size % blockSize != 0)
        {
            throw new UsageException($"--size: {Sizes.Short(size)} must be a positive multiple of the block size ({Sizes.Format(blockSize.Value)})");
        }
        if (File.Exists(full) && !force)
        {
            throw new UsageException($"{full} exists; add --force to overwrite it, or --read-only to check it");
        }
        if (!Directory.Exists(Path.GetDirectoryName(full)))
        {
            throw IoFailureException.FromErrno("create", full, ErrnoText.ENOENT);
        }
        return new VerifyOptions(full, size, blockSize, depth, direct, engine, seed, ReadOnly: false);
    }

    private static int Print(TextWriter o, VerifyOptions options, VerifyReport report)
    {
        string how = $"{report.Engine}, {(options.Direct ? "O_DIRECT" : "page cache dropped before reading")}, {options.IoDepth} in flight";
        string blocks = $"{report.Blocks:N0} blocks of {Sizes.Format(report.BlockSize)} ({Sizes.Human(report.Bytes)})";
        if (options.ReadOnly)
        {
            o.WriteLine($"verify {options.Path}: read {blocks}, seed {Seeds.Format(report.Seed)}, in {report.ReadSeconds:0.###} s ({how})");
        }
        else
        {
            o.WriteLine($"verify {options.Path}: wrote {blocks} with seed {Seeds.Format(report.Seed)} in {report.WriteSeconds:0.###} s, " +
                $"fsync'd, read back in {report.ReadSeconds:0.###} s ({how})");
        }
        foreach ((long offset, string problem) in report.BadBlocks.Take(MaxPrintedBlocks))
        {
            o.WriteLine($"bad block at offset {offset} (block {offset / report.BlockSize}): {problem}");
        }
        if (report.BadBlocks.Count > MaxPrintedBlocks)
        {
            o.WriteLine($"... and {report.BadBlocks.Count - MaxPrintedBlocks:N0} more bad blocks");
        }
        if (report.BadBlocks.Count > 0)
        {
            o.WriteLine($"CORRUPT: {report.BadBlocks.Count:N0} of {report.Blocks:N0} blocks are bad");
            return ExitCodes.VerificationFailed;
        }
        o.WriteLine($"clean: all {report.Blocks:N0} blocks hold what was written");
        return ExitCodes.Success;
    }
}
