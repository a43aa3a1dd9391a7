using System.Buffers;
using FileAio.Interop;
using Microsoft.Win32.SafeHandles;
using static FileAio.Interop.IoUringConstants;

namespace FileAio.Engines.IoUring;

/// <summary>
/// The files and buffers registered with one ring (a context's AssociateWithFile and AssociateWithBuffer), so that
/// operations on them skip the per-operation file lookup and page pinning (fio's <c>--registerfiles --fixedbufs</c>).
/// Sparse tables (Linux 5.19) are registered on first use and filled one entry at a time; where the kernel refuses,
/// nothing is registered and operations use plain fds and addresses, which is always correct.
/// </summary>
/// <remarks>
/// Each registered file keeps a reference on its handle and each registered buffer keeps a pin, until
/// <see cref="Release"/> (after the ring is closed): the kernel's table refers to that file and those pages, so the
/// fd number cannot be reused for another file and the memory cannot be freed meanwhile.
/// Writers (Associate*) are serialized by the caller; readers (the submit path) see immutable arrays published with a
/// release store, so lookups take no lock.
/// </remarks>
internal sealed unsafe class RegisteredResources
{
    /// <summary>Entries in each sparse table: plenty for the files and buffers of one context.</summary>
    public const int TableSize = 256;

    private readonly IoUringQueue _ring;
    private bool _fileTableRegistered, _fileTableRefused;
    private bool _bufferTableRegistered, _bufferTableRefused;
    private SafeFileHandle[] _files = [];
    private (nuint Start, nuint End)[] _buffers = [];
    private readonly List<MemoryHandle> _bufferPins = [];

    public RegisteredResources(IoUringQueue ring) => _ring = ring;

    /// <summary>Registers <paramref name="file"/>; false when the kernel has no room or no support (then plain fds).</summary>
    public bool AddFile(SafeFileHandle file)
    {
        SafeFileHandle[] files = _files;
        if (Array.IndexOf(files, file) >= 0)
        {
            return true;
        }
        if (files.Length >= TableSize || !EnsureTable(IORING_REGISTER_FILES2, ref _fileTableRegistered, ref _fileTableRefused))
        {
            return false;
        }
        bool added = false;
        file.DangerousAddRef(ref added);
        int fd = (int)file.DangerousGetHandle();
        var update = new IoUringRsrcUpdate2 { Offset = (uint)files.Length, Data = (ulong)&fd, Nr = 1 };
        if (_ring.Register(IORING_REGISTER_FILES_UPDATE2, &update, (uint)sizeof(IoUringRsrcUpdate2)) != 1)
        {
            file.DangerousRelease();
            return false;
        }
        Volatile.Write(ref _files, [.. files, file]);
        return true;
    }

    /// <summary>Registers <paramref name="buffer"/> (pinned until release); false when the kernel refuses.</summary>
    public bool AddBuffer(Memory<byte> buffer)
    {
        (nuint Start, nuint End)[] buffers = _buffers;
        if (buffers.Length >= TableSize || !EnsureTable(IORING_REGISTER_BUFFERS2, ref _bufferTableRegistered, ref _bufferTableRefused))
        {
            return false;
        }
        MemoryHandle pin = buffer.Pin();
        var iov = new IoVec { Base = pin.Pointer, Length = (nuint)buffer.Length };
        var update = new IoUringRsrcUpdate2 { Offset = (uint)buffers.Length, Data = (ulong)&iov, Nr = 1 };
        if (_ring.Register(IORING_REGISTER_BUFFERS_UPDATE, &update, (uint)sizeof(IoUringRsrcUpdate2)) != 1)
        {
            pin.Dispose();
            return false;
        }
        _bufferPins.Add(pin);
        nuint start = (nuint)pin.Pointer;
        Volatile.Write(ref _buffers, [.. buffers, (start, start + (nuint)buffer.Length)]);
        return true;
    }

    /// <summary>The registered-file index of <paramref name="file"/>, or -1.</summary>
    public int FileIndexOf(SafeFileHandle file)
    {
        SafeFileHandle[] files = Volatile.Read(ref _files);
        for (int i = 0; i < files.Length; i++)
        {
            if (ReferenceEquals(files[i], file))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The index of the registered buffer holding all of [<paramref name="start"/>, +<paramref name="length"/>), or -1.</summary>
    public int BufferIndexOf(byte* start, int length)
    {
        (nuint Start, nuint End)[] buffers = Volatile.Read(ref _buffers);
        nuint from = (nuint)start, to = from + (nuint)length;
        for (int i = 0; i < buffers.Length; i++)
        {
            if (buffers[i].Start <= from && to <= buffers[i].End)
            {
                return i;
            }
        }
        return -1;
    }

    private bool EnsureTable(uint opcode, ref bool registered, ref bool refused)
    {
        if (!registered && !refused)
        {
            var table = new IoUringRsrcRegister { Nr = TableSize, Flags = IORING_RSRC_REGISTER_SPARSE };
            registered = _ring.Register(opcode, &table, (uint)sizeof(IoUringRsrcRegister)) == 0;
            refused = !registered;
        }
        return registered;
    }

    /// <summary>Drops the handle references and pins. Call after the ring is closed (the kernel's tables are gone).</summary>
    public void Release()
    {
        foreach (SafeFileHandle file in _files)
        {
            file.DangerousRelease();
        }
        _files = [];
        foreach (MemoryHandle pin in _bufferPins)
        {
            pin.Dispose();
        }
        _bufferPins.Clear();
        _buffers = [];
    }
}
