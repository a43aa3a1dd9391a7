namespace FileAio.Cli.Copy;

/// <summary>What a finished copy did.</summary>
internal sealed record CopyResult(long Bytes, string Engine, double CopySeconds, double VerifySeconds, bool Verified)
{
    /// <summary>The source's size was not known beforehand, so it was read to its end one chunk at a time
    /// (<see cref="ReadToEndCopy"/>).</summary>
    public bool ReadToEnd { get; init; }

    /// <summary>The source was read with O_DIRECT (asked for, and a file whose size is known).</summary>
    public bool SourceDirect { get; init; }

    /// <summary>The copy has the source's owner and group (<see cref="KeptAttributes"/>).</summary>
    public bool OwnerKept { get; init; }

    /// <summary>The line <c>copy</c> prints: "copied 10.0 MiB (10,485,761 bytes) from A to B in 0.111 s (90.5 MiB/s):
    /// io_uring, O_DIRECT, 256k x 32 in flight, fsync'd, verified in 0.047 s".</summary>
    public string Describe(CopyOptions options)
    {
        string rate = CopySeconds > 0 ? $" ({Sizes.Human(Bytes / CopySeconds)}/s)" : "";
        string mode = !options.Direct ? "page cache" : SourceDirect ? "O_DIRECT" : "O_DIRECT writes";
        string queue = ReadToEnd
            ? $"{Sizes.Short(options.BlockSize)} at a time to end of file (its size is not known before reading)"
            : $"{Sizes.Short(options.BlockSize)} x {options.IoDepth} in flight";
        return $"copied {Sizes.Human(Bytes)} ({Bytes:N0} bytes) from {options.Source} to {options.Destination} " +
            $"in {CopySeconds:0.###} s{rate}: {Engine}, {mode}, {queue}, fsync'd" +
            (Verified ? $", verified in {VerifySeconds:0.###} s" : "") +
            (OwnerKept || !OperatingSystem.IsLinux() ? "" : "; owner not kept (changing it needs root)");
    }
}
