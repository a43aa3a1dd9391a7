using System.Diagnostics;
using FileAio.Cli.Pipeline;
using FileAio.Cli.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Cli.Copy;

/// <summary>
/// <c>fileaio copy</c>'s engine: a pipelined copy with <c>iodepth</c> chunks in flight, each chunk read then written
/// by its own slot (<see cref="AioPipeline"/>), so reads of later chunks overlap writes of earlier ones.
/// </summary>
/// <remarks>
/// <para>Crash and failure safety: the data goes to a temporary file in the destination's directory (so the final
/// rename stays within one file system), which is fsync'd, optionally verified, given the source's owner, mode and
/// times (<see cref="KeptAttributes"/>) and fsync'd again, and only then renamed over the destination, after which
/// the directory is fsync'd. Any failure or interruption deletes the temporary file: the destination is either
/// untouched or complete. Errors name the destination, never the temporary file.</para>
/// <para>A source whose reported size is not its length (procfs, sysfs, 0 bytes: <see cref="SourceSize"/>) is read to
/// its end instead, one chunk at a time (<see cref="ReadToEndCopy"/>), and never with O_DIRECT, which those file
/// systems refuse (they have no page cache to bypass); the destination still gets O_DIRECT when asked.</para>
/// <para>O_DIRECT and a size that is not a multiple of the alignment: the last chunk is read as a whole aligned block
/// (the read comes back short at end of file), written as a whole aligned block padded with zeros, and the file is
/// then truncated to the source's exact size.</para>
/// </remarks>
internal static class FileCopier
{
    private const int StageRead = 0;
    private const int StageWrite = 1;
    private const int StageReadCopy = 1; // verify: the second read, of the copy

    public static CopyResult Run(CopyOptions options, ProgressScope progress, CancellationToken cancellationToken)
    {
        string directory = Path.GetDirectoryName(options.Destination)!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(options.Destination)}.fileaio-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        bool renamed = false;
        try
        {
            UnixAttributes? attributes = OperatingSystem.IsLinux() ? UnixAttributes.Read(options.Source) : null;
            bool sized = SourceSize.IsKnown(options.Source, attributes);
            bool sourceDirect = options.Direct && sized;
            long size;
            string engine;
            double copySeconds, verifySeconds = 0;
            using (SafeFileHandle source = Open(options.Source, options.Source, FileMode.Open, FileAccess.Read, sourceDirect))
            {
                long expected = sized ? RandomAccess.GetLength(source) : 0;
                CreateTemporary(temporary, expected, options.Destination);
                using SafeFileHandle destination = Open(temporary, options.Destination, FileMode.Open, FileAccess.ReadWrite, options.Direct);
                (int alignment, int memoryAlignment) = Alignment(options, sourceDirect ? [source, destination] : [destination], [source, destination]);

                var clock = Stopwatch.StartNew();
                ProgressReporter bar = progress.Start($"copying {options.Source} to {options.Destination}", sized ? expected : -1);
                using (var pipeline = new AioPipeline(sized ? Depth(options, expected) : 1, options.Engine, options.BlockSize, memoryAlignment, [source, destination]))
                {
                    engine = pipeline.EngineName;
                    if (sized)
                    {
                        // Writes stay inside the file's length (no extending O_DIRECT writes, which file systems serialise).
                        RandomAccess.SetLength(destination, ChunkWrites.RoundUp(expected, alignment));
                        CopyChunks(pipeline, options, source, destination, expected, alignment, bar, cancellationToken);
                        size = expected;
                    }
                    else
                    {
                        size = ReadToEndCopy.Run(pipeline, source, options.Source, destination, options.Destination,
                            options.BlockSize, alignment, bar, cancellationToken);
                    }
                    RandomAccess.SetLength(destination, size); // cut the O_DIRECT tail's padding
                    pipeline.Flush(destination, options.Destination);
                }
                bar.Complete();
                copySeconds = clock.Elapsed.TotalSeconds;
            }

            if (options.Verify)
            {
                var clock = Stopwatch.StartNew();
                VerifyCopy(options, sourceDirect, temporary, size, progress, cancellationToken);
                verifySeconds = clock.Elapsed.TotalSeconds;
            }

            bool ownerKept = Keep(attributes, options.Source, temporary, options.Destination);
            File.Move(temporary, options.Destination, overwrite: true);
            renamed = true;
            FileSystemCalls.SyncDirectory(directory);
            return new CopyResult(size, engine, copySeconds, verifySeconds, options.Verify)
            {
                ReadToEnd = !sized,
                SourceDirect = sourceDirect,
                OwnerKept = ownerKept,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(renamed ? "sync directory of" : "copy to", options.Destination, e);
        }
        finally
        {
            if (!renamed)
            {
                TryDelete(temporary);
            }
        }
    }

    /// <summary>Gives the copy the source's owner (when permitted), mode and times, and makes them durable with the
    /// data before the rename. Returns whether the owner was kept (always false off Linux, where only the mode and
    /// the times, to the 100 ns .NET keeps, are copied).</summary>
    private static bool Keep(UnixAttributes? attributes, string source, string temporary, string destination)
    {
        if (attributes is not null)
        {
            using SafeFileHandle copy = File.OpenHandle(temporary, FileMode.Open, FileAccess.Write);
            bool ownerKept = KeptAttributes.Apply(attributes, copy, destination);
            RandomAccess.FlushToDisk(copy);
            return ownerKept;
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(source));
        }
        File.SetLastAccessTimeUtc(temporary, File.GetLastAccessTimeUtc(source));
        File.SetLastWriteTimeUtc(temporary, File.GetLastWriteTimeUtc(source));
        return false;
    }

    private static void CopyChunks(
        AioPipeline pipeline, CopyOptions options, SafeFileHandle source, SafeFileHandle destination,
        long size, int alignment, ProgressReporter bar, CancellationToken cancellationToken)
    {
        int blockSize = options.BlockSize;
        var chunks = new ChunkCursor(source, size, blockSize, alignment);
        bool Start(PipelineSlot slot) => chunks.TryStartRead(slot);

        bool Complete(PipelineSlot slot)
        {
            int span = ChunkWrites.RoundUp(slot.Length, alignment); // what each step moves: the chunk, rounded up under O_DIRECT
            if (slot.Stage == StageRead)
            {
                if (ContinueRead(slot, source, options.Source, slot.Buffer.Memory[..span], alignment, size))
                {
                    return true;
                }
                // The whole chunk is in the buffer. Under O_DIRECT the tail block is padded with zeros up to the
                // alignment (the truncate at the end cuts them off).
                slot.Buffer.GetSpan()[slot.Length..span].Clear();
                slot.Stage = StageWrite;
                slot.Done = 0;
                slot.Request.PrepareWrite(destination, slot.Offset, slot.Buffer.Memory[..span], slot);
                return true;
            }

            if (ChunkWrites.Continue(slot, destination, options.Destination, span, alignment))
            {
                return true;
            }
            bar.Advance(slot.Length);
            return false;
        }

        pipeline.Run(Start, Complete, cancellationToken);
    }

    /// <summary>Handles a completed read of the chunk in <paramref name="slot"/> into <paramref name="buffer"/>: returns
    /// true when it had to prepare another read for the rest of the chunk (a short read), false when the chunk's
    /// <see cref="PipelineSlot.Length"/> bytes are all there. End of file before that means the file shrank.</summary>
    private static bool ContinueRead(PipelineSlot slot, SafeFileHandle file, string path, Memory<byte> buffer, int alignment, long expectedSize)
    {
        AioRequest request = slot.Request;
        if (request.Status != AioStatus.Success)
        {
            throw IoFailureException.FromErrno("read", path, request.ErrorCode, slot.Offset + slot.Done);
        }
        if (request.BytesTransferred == 0)
        {
            throw new IoFailureException(
                $"read {path} failed: it ends at {slot.Offset + slot.Done} bytes but was {expectedSize} bytes when the copy began (changed while being read?)")
            {
                Errno = ErrnoText.EIO,
                Path = path,
            };
        }
        slot.Done += (int)request.BytesTransferred;
        if (slot.Done >= slot.Length)
        {
            return false;
        }
        ChunkWrites.RequireAligned(slot.Done, alignment, "read", path, slot.Offset);
        slot.Request.PrepareRead(file, slot.Offset + slot.Done, buffer[slot.Done..], slot);
        return true;
    }

    /// <summary>Re-reads source and copy (from the device: O_DIRECT, or after dropping the copy's cached pages) and
    /// compares them chunk by chunk.</summary>
    private static void VerifyCopy(CopyOptions options, bool sourceDirect, string temporary, long size, ProgressScope progress, CancellationToken cancellationToken)
    {
        using SafeFileHandle source = Open(options.Source, options.Source, FileMode.Open, FileAccess.Read, sourceDirect);
        using SafeFileHandle copy = Open(temporary, options.Destination, FileMode.Open, FileAccess.Read, options.Direct);
        if (!options.Direct)
        {
            FileSystemCalls.DropCachedPages(copy);
        }
        (int alignment, int memoryAlignment) = Alignment(options, sourceDirect ? [source, copy] : [copy], [source, copy]);
        ProgressReporter bar = progress.Start($"verifying {options.Destination}", size);
        using var pipeline = new AioPipeline(Depth(options, size), options.Engine, options.BlockSize, memoryAlignment, [source, copy], twoBuffers: true);
        int blockSize = options.BlockSize;
        var chunks = new ChunkCursor(source, size, blockSize, alignment);
        bool Start(PipelineSlot slot) => chunks.TryStartRead(slot);

        bool Complete(PipelineSlot slot)
        {
            int span = ChunkWrites.RoundUp(slot.Length, alignment);
            if (slot.Stage == StageRead)
            {
                if (ContinueRead(slot, source, options.Source, slot.Buffer.Memory[..span], alignment, size))
                {
                    return true;
                }
                slot.Stage = StageReadCopy;
                slot.Done = 0;
                slot.Request.PrepareRead(copy, slot.Offset, slot.Second!.Memory[..span], slot);
                return true;
            }
            if (ContinueRead(slot, copy, options.Destination, slot.Second!.Memory[..span], alignment, size))
            {
                return true;
            }
            ReadOnlySpan<byte> expected = slot.Buffer.GetSpan()[..slot.Length];
            ReadOnlySpan<byte> found = slot.Second.GetSpan()[..slot.Length];
            int same = expected.CommonPrefixLength(found);
            if (same < slot.Length)
            {
                throw new VerificationFailedException(
                    $"verify failed: the copy differs from {options.Source} at offset {slot.Offset + same} " +
                    $"(expected 0x{expected[same]:x2}, found 0x{found[same]:x2}); {options.Destination} was not written");
            }
            bar.Advance(slot.Length);
            return false;
        }

        pipeline.Run(Start, Complete, cancellationToken);
        bar.Complete();
    }

    /// <summary>Opens <paramref name="path"/>; an error names <paramref name="shownAs"/> (the destination, for its
    /// temporary file).</summary>
    private static SafeFileHandle Open(string path, string shownAs, FileMode mode, FileAccess access, bool direct)
    {
        try
        {
            return AioFile.OpenHandle(path, mode, access, direct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IoFailureException.FromException(direct ? "open (O_DIRECT)" : "open", shownAs, e);
        }
    }

    /// <summary>Creates the temporary file with its blocks allocated up front, keeping its length at 0: a full disk
    /// fails here, before any copying (reported under the destination's name), and the copy gets few extents.</summary>
    private static void CreateTemporary(string path, long size, string destination)
    {
        try
        {
            using SafeFileHandle created = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            int errno = FileSystemCalls.Preallocate(created, size);
            if (errno is ErrnoText.ENOSPC or ErrnoText.EFBIG or ErrnoText.EDQUOT) // others (EOPNOTSUPP) only mean "no preallocation here"
            {
                throw new IoFailureException($"create {destination} failed: {Sizes.Human(size)} cannot be allocated there: {ErrnoText.Describe(errno)}")
                {
                    Errno = errno,
                    Path = destination,
                };
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Named as the destination: the temporary name is the copy's business. Creating it is the first thing the
            // copy asks of DST's directory, so say so: DST itself may well exist (/proc/version).
            int errno = ErrnoText.FromException(e);
            throw new IoFailureException(
                $"create {destination} failed: cannot create a new file in {Path.GetDirectoryName(destination)} " +
                $"(the copy is written there first, then renamed): {(errno != 0 ? ErrnoText.Describe(errno) : e.Message)}", e)
            {
                Errno = errno,
                Path = destination,
            };
        }
    }

    /// <summary>The offset/length alignment every transfer keeps (1 without O_DIRECT; else the largest of the files
    /// opened with it, <paramref name="direct"/>) and the buffers' alignment (the largest any of the files asks).</summary>
    private static (int Alignment, int MemoryAlignment) Alignment(CopyOptions options, SafeFileHandle[] direct, SafeFileHandle[] all)
    {
        int memory = all.Select(f => AioFile.GetAlignment(f).MemoryAlignment).Prepend(4096).Max();
        if (!options.Direct)
        {
            return (1, memory);
        }
        int alignment = direct.Select(f => AioFile.GetAlignment(f).OffsetAlignment).Max();
        if (options.BlockSize % alignment != 0)
        {
            throw new UsageException($"--bs: {options.BlockSize} is not a multiple of {alignment}, the direct-I/O alignment of the source and destination; use a multiple, or copy without --direct");
        }
        return (alignment, memory);
    }

    private static int Depth(CopyOptions options, long size) =>
        (int)Math.Clamp((size + options.BlockSize - 1) / options.BlockSize, 1, options.IoDepth);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the name says what it is (.NAME.fileaio-PID-ID.tmp).
        }
    }

    /// <summary>Hands out the file's chunks in order, each to a slot that starts by reading it (the length rounded up
    /// to the direct-I/O alignment; a short read at the end of the file is expected). Shared by the copy pass and the
    /// verify pass.</summary>
    private sealed class ChunkCursor(SafeFileHandle source, long size, int blockSize, int alignment)
    {
        private readonly long _chunks = (size + blockSize - 1) / blockSize;
        private long _next;

        public bool TryStartRead(PipelineSlot slot)
        {
            if (_next >= _chunks)
            {
                return false;
            }
            slot.Offset = _next++ * blockSize;
            slot.Length = (int)Math.Min(blockSize, size - slot.Offset);
            slot.Done = 0;
            slot.Stage = StageRead;
            slot.Request.PrepareRead(source, slot.Offset, slot.Buffer.Memory[..ChunkWrites.RoundUp(slot.Length, alignment)], slot);
            return true;
        }
    }
}
