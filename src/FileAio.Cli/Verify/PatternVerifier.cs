using System.Buffers.Binary;
using System.Diagnostics;
using FileAio.Cli.Pipeline;
using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Verify;

/// <summary>
/// <c>fileaio verify</c>'s engine. Writes <see cref="PatternBlock"/>s over the file with <c>iodepth</c> writes in
/// flight, fsyncs, drops the file's cached pages (or uses O_DIRECT) so the read-back comes from the device, then reads
/// every block back and checks it. With <c>--read-only</c> it only reads and checks an existing pattern file.
/// </summary>
internal static class PatternVerifier
{
    public static VerifyReport Run(VerifyOptions options, ProgressScope progress, CancellationToken cancellationToken)
    {
        double writeSeconds = 0;
        int blockSize;
        ulong seed;
        long size;
        if (options.ReadOnly)
        {
            size = new FileInfo(options.Path).Length;
            if (size == 0)
            {
                throw new UsageException($"{options.Path} is empty: there is nothing to verify");
            }
            (blockSize, seed) = Discover(options.Path, size, options.BlockSize, options.Seed);
        }
        else
        {
            blockSize = options.BlockSize!.Value;
            seed = options.Seed ?? Seeds.New();
            size = options.Size;
            var clock = Stopwatch.StartNew();
            Write(options, blockSize, seed, progress, cancellationToken);
            writeSeconds = clock.Elapsed.TotalSeconds;
        }

        var readClock = Stopwatch.StartNew();
        (string engine, List<(long, string)> bad) = ReadBack(options, size, blockSize, seed, progress, cancellationToken);
        bad.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return new VerifyReport((size + blockSize - 1) / blockSize, blockSize, size, seed, engine, writeSeconds, readClock.Elapsed.TotalSeconds, bad);
    }

    private static void Write(VerifyOptions options, int blockSize, ulong seed, ProgressScope progress, CancellationToken cancellationToken)
    {
        using SafeFileHandle file = Open(options.Path, FileMode.Create, FileAccess.ReadWrite, options.Direct);
        int memoryAlignment = CheckAlignment(options, file, blockSize);
        long blocks = options.Size / blockSize;
        ProgressReporter bar = progress.Start($"writing {blocks:N0} blocks to {options.Path}", options.Size);
        using var pipeline = new AioPipeline((int)Math.Clamp(blocks, 1, options.IoDepth), options.Engine, blockSize, memoryAlignment, [file]);
        RandomAccess.SetLength(file, options.Size); // writes stay inside the file: no extending O_DIRECT writes
        long next = 0;

        bool Start(PipelineSlot slot)
        {
            if (next >= blocks)
            {
                return false;
            }
            slot.Offset = next++ * blockSize;
            slot.Done = 0;
            PatternBlock.Fill(slot.Buffer.GetSpan()[..blockSize], slot.Offset, seed);
            slot.Request.PrepareWrite(file, slot.Offset, slot.Buffer.Memory[..blockSize], slot);
            return true;
        }

        bool Complete(PipelineSlot slot)
        {
            AioRequest request = slot.Request;
            if (request.Status != AioStatus.Success || request.BytesTransferred == 0)
            {
                throw IoFailureException.FromErrno("write", options.Path, request.Status == AioStatus.Success ? ErrnoText.EIO : request.ErrorCode, slot.Offset + slot.Done);
            }
            slot.Done += (int)request.BytesTransferred;
            if (slot.Done < blockSize)
            {
                slot.Request.PrepareWrite(file, slot.Offset + slot.Done, slot.Buffer.Memory[slot.Done..blockSize], slot);
                return true;
            }
            bar.Advance(blockSize);
            return false;
        }

        pipeline.Run(Start, Complete, cancellationToken);
        pipeline.Flush(file, options.Path);
        bar.Complete();
    }

    private static (string Engine, List<(long, string)> Bad) ReadBack(
        VerifyOptions options, long size, int blockSize, ulong seed, ProgressScope progress, CancellationToken cancellationToken)
    {
        using SafeFileHandle file = Open(options.Path, FileMode.Open, FileAccess.Read, options.Direct);
        if (!options.Direct)
        {
            FileSystemCalls.DropCachedPages(file); // clean pages (the write phase fsync'd): the reads go to the device
        }
        int memoryAlignment = CheckAlignment(options, file, blockSize);
        int transferAlignment = options.Direct ? AioFile.GetAlignment(file).OffsetAlignment : 1;
        long blocks = (size + blockSize - 1) / blockSize;
        var bad = new List<(long, string)>();
        ProgressReporter bar = progress.Start($"reading back {blocks:N0} blocks of {options.Path}", size);
        using var pipeline = new AioPipeline((int)Math.Clamp(blocks, 1, options.IoDepth), options.Engine, blockSize, memoryAlignment, [file]);
        long next = 0;

        bool Start(PipelineSlot slot)
        {
            if (next >= blocks)
            {
                return false;
            }
            slot.Offset = next++ * blockSize;
            slot.Done = 0;
            slot.Request.PrepareRead(file, slot.Offset, slot.Buffer.Memory[..blockSize], slot);
            return true;
        }

        bool Complete(PipelineSlot slot)
        {
            AioRequest request = slot.Request;
            if (request.Status != AioStatus.Success)
            {
                if (!ErrnoText.IsUnreadableData(request.ErrorCode))
                {
                    throw IoFailureException.FromErrno("read", options.Path, request.ErrorCode, slot.Offset + slot.Done);
                }
                // The medium (or the file system's checksum) refuses this block: that is what verify looks for, so it
                // is reported with the others and the check goes on.
                bad.Add((slot.Offset, $"unreadable: {ErrnoText.Describe(request.ErrorCode)} at offset {slot.Offset + slot.Done}"));
                bar.Advance(Math.Min(blockSize, size - slot.Offset));
                return false;
            }
            long got = request.BytesTransferred;
            slot.Done += (int)got;
            if (got > 0 && slot.Done < blockSize && slot.Done % transferAlignment == 0)
            {
                slot.Request.PrepareRead(file, slot.Offset + slot.Done, slot.Buffer.Memory[slot.Done..blockSize], slot);
                return true; // a short read: read the rest
            }
            string? problem = slot.Done < blockSize
                ? $"partial block: the file ends {slot.Done} bytes into it (block size {blockSize})"
                : PatternBlock.Check(slot.Buffer.GetSpan()[..blockSize], slot.Offset, seed);
            if (problem is not null)
            {
                bad.Add((slot.Offset, problem));
            }
            bar.Advance(Math.Min(blockSize, size - slot.Offset));
            return false;
        }

        pipeline.Run(Start, Complete, cancellationToken);
        bar.Complete();
        return (pipeline.EngineName, bad);
    }

    /// <summary>For <c>--read-only</c>: the block size (from the first block's header unless given) and the seed (from
    /// the first block with a valid header unless given).</summary>
    private static (int BlockSize, ulong Seed) Discover(string path, long size, int? givenBlockSize, ulong? givenSeed)
    {
        using SafeFileHandle file = Open(path, FileMode.Open, FileAccess.Read, direct: false);
        int blockSize = givenBlockSize ?? 0;
        if (blockSize == 0)
        {
            Span<byte> header = stackalloc byte[PatternBlock.HeaderSize];
            int read = ReadOrZero(file, header, 0);
            int stated = read == header.Length && header[..8].SequenceEqual("FAIOBLK1"u8) ? BinaryPrimitives.ReadInt32LittleEndian(header[24..]) : 0;
            if (stated < PatternBlock.MinimumSize || stated > (256 << 20))
            {
                throw new UsageException($"{path} does not start with a pattern block, so its block size is unknown; give --bs (and --seed) if its first block is damaged");
            }
            blockSize = stated;
        }
        if (givenSeed is ulong seed)
        {
            return (blockSize, seed);
        }
        byte[] block = new byte[blockSize];
        long blocks = size / blockSize;
        for (long i = 0; i < Math.Min(blocks, 1024); i++)
        {
            if (ReadOrZero(file, block, i * blockSize) == blockSize && PatternBlock.TryReadHeader(block, out PatternBlock.Header found))
            {
                return (blockSize, found.Seed);
            }
        }
        throw new VerificationFailedException($"none of the first {Math.Min(blocks, 1024)} blocks of {path} is an intact pattern block, so its seed is unknown: give --seed, or it is not a verify file");
    }

    /// <summary>A read for <see cref="Discover"/>: a block the medium refuses counts as damaged (0 bytes), so the search
    /// moves on to the next; any other error is an I/O failure.</summary>
    private static int ReadOrZero(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        try
        {
            return RandomAccess.Read(file, buffer, offset);
        }
        catch (IOException e) when (ErrnoText.IsUnreadableData(ErrnoText.FromException(e)))
        {
            return 0;
        }
    }

    /// <summary>Under O_DIRECT the block size must follow the file's alignment; returns the buffers' alignment.</summary>
    private static int CheckAlignment(VerifyOptions options, SafeFileHandle file, int blockSize)
    {
        AioAlignment alignment = AioFile.GetAlignment(file);
        if (options.Direct && blockSize % alignment.OffsetAlignment != 0)
        {
            throw new UsageException($"--bs: {blockSize} is not a multiple of {alignment.OffsetAlignment}, the direct-I/O alignment of {options.Path}");
        }
        return Math.Max(4096, alignment.MemoryAlignment);
    }

    private static SafeFileHandle Open(string path, FileMode mode, FileAccess access, bool direct)
    {
        try
        {
            return AioFile.OpenHandle(path, mode, access, direct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(direct ? "open (O_DIRECT)" : "open", path, e);
        }
    }
}
