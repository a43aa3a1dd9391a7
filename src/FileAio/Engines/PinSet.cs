using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Engines;

/// <summary>
/// What keeps an operation's memory and file valid for the kernel: one pin per buffer and a reference on the file
/// handle (so closing the handle cannot recycle the descriptor under an operation in flight). Owned by
/// <see cref="IoOperation"/>; taken by <see cref="IoOperation.Pin"/>, released exactly once by
/// <see cref="IoOperation.Unpin"/> when the operation has left the kernel.
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
