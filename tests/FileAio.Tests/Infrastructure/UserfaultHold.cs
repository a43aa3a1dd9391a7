using Microsoft.Win32.SafeHandles;

namespace FileAio.Tests.Infrastructure;

/// <summary>Held operations for engines that run positional system calls on threads: reads and writes whose copy
/// page-faults on <see cref="UserfaultStall"/> memory. Not cancellable once a thread is inside the copy.</summary>
public sealed class UserfaultHold(SafeFileHandle readFile, SafeFileHandle writeFile, int count) : KernelHold
{
    private readonly UserfaultStall _reads = new(count * 4096);
    private readonly UserfaultStall _writes = new(count * 4096);

    public override bool StartedOperationsCanBeCancelled => false;

    public override void PrepareRead(AioRequest request, int index, object? userState = null) =>
        request.PrepareRead(readFile, 0, _reads.Memory.Slice(index * 4096, 4096), userState);

    public override void PrepareWrite(AioRequest request, int index, object? userState = null) =>
        request.PrepareWrite(writeFile, index * 4096L, _writes.Memory.Slice(index * 4096, 4096), userState);

    public override Memory<byte> ReadBuffer(int index) => _reads.Memory.Slice(index * 4096, 4096);

    public override bool WaitUntilHeld(TimeSpan timeout) =>
        _reads.WaitUntilFaulted(TimeSpan.Zero) || _writes.WaitUntilFaulted(TimeSpan.Zero)
        || WaitEither(timeout);

    private bool WaitEither(TimeSpan timeout)
    {
        DateTime giveUp = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < giveUp)
        {
            if (_reads.WaitUntilFaulted(TimeSpan.FromMilliseconds(5)) || _writes.WaitUntilFaulted(TimeSpan.FromMilliseconds(5)))
            {
                return true;
            }
        }
        return false;
    }

    public override void Release()
    {
        _reads.Release();
        _writes.Release();
    }

    public override void Dispose()
    {
        _reads.Dispose();
        _writes.Dispose();
    }
}
