using FASTER.core;
using FileAio.Faster.Tests.Infrastructure;

namespace FileAio.Faster.Tests;

/// <summary>FileAioNamedDeviceFactory.Delete as FASTER's own factory behaves: FASTER deletes outdated checkpoints right
/// after writing a new one, so a delete that fails is retried for a while, then given up without an exception. The
/// obstacle here is a mount point inside the directory (rmdir says EBUSY); no I/O is issued, so one engine is enough.</summary>
public sealed class NamedDeviceFactoryTests() : FasterTest(AioEngineKind.ThreadPool)
{
    private (FileAioNamedDeviceFactory Factory, string Token, SmallFileSystem Busy) Setup(TimeSpan retryTime)
    {
        string token = PathOf(Path.Combine("checkpoints", "token-1"));
        var busy = new SmallFileSystem(Path.Combine(token, "mounted"), kibibytes: 64);
        File.WriteAllBytes(Path.Combine(token, "info.dat.0"), [1, 2, 3]);
        var factory = new FileAioNamedDeviceFactory(options: Options()) { DeleteRetryTime = retryTime };
        factory.Initialize(PathOf("checkpoints"));
        return (factory, token, busy);
    }

    [Fact]
    public void Delete_OfADirectoryThatStaysBusy_GivesUpQuietlyAfterTheRetryTime()
    {
        (FileAioNamedDeviceFactory factory, string token, SmallFileSystem busy) = Setup(TimeSpan.FromMilliseconds(300));
        try
        {
            var timer = System.Diagnostics.Stopwatch.StartNew();
            factory.Delete(new FileDescriptor("token-1", null));
            Assert.InRange(timer.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30));
            Assert.True(System.IO.Directory.Exists(token)); // the mount point is still there: nothing more could go
        }
        finally
        {
            busy.Dispose();
        }
        Assert.Null(busy.UnmountProblem);
    }

    [Fact]
    public void Delete_OfADirectoryBusyForAMoment_RetriesUntilItIsGone()
    {
        (FileAioNamedDeviceFactory factory, string token, SmallFileSystem busy) = Setup(TimeSpan.FromSeconds(5));
        using var unmounter = new Timer(_ => busy.Dispose(), null, TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);
        try
        {
            factory.Delete(new FileDescriptor("token-1", null));
            Assert.False(System.IO.Directory.Exists(token));
        }
        finally
        {
            busy.Dispose(); // a no-op once the timer has unmounted; unmounts if the delete failed before it fired
        }
    }
}
