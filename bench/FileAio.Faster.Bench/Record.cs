using System.Runtime.InteropServices;

namespace FileAio.Faster.Bench;

/// <summary>
/// The value of every key: 1008 bytes, so that a record on FASTER's log (8-byte header, 8-byte key, value) is 1 KiB —
/// YCSB's standard record size (10 fields of 100 bytes). Blittable, so FASTER stores it in place, without an object log.
/// </summary>
/// <remarks>The first word repeats the key: every read checks it, so a device that returned the wrong bytes would show
/// up as errors, not as speed.</remarks>
[StructLayout(LayoutKind.Sequential, Size = Size)]
internal struct Record
{
    public const int Size = 1008;

    public long Key;
    public long Stamp; // which upsert wrote it (0: the load)
}
