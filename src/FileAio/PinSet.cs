using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio;

/// <summary>
/// What keeps a Submitted request's memory and file valid for the kernel: one pin per buffer and a reference on
/// the file handle (so closing the handle cannot recycle the descriptor under an operation in flight).
/// Owned by the request; taken at Submit, released exactly once by <see cref="Release"/> when the request leaves the
/// kernel (its completion was reaped, or the kernel confirmed it never ran).
/// </summary>
internal struct PinSet
{
    public MemoryHandle First;
    public MemoryHandle[]? Rest;     // buffers 1..Count-1 of a vectored transfer
    public int Count;
    public SafeFileHandle? File;     // holds one DangerousAddRef while set

    public void Release()
    {
        for (int i = 0; i < Count; i++)
        {
            if (i == 0)
            {
                First.Dispose();
                First = default;
            }
            else
            {
                Rest![i - 1].Dispose();
                Rest[i - 1] = default;
            }
        }
        Count = 0;
        if (File is not null)
        {
            File.DangerousRelease();
            File = null;
        }
    }
}
