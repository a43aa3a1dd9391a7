using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Loops;

/// <summary>
/// Group commit in the loop mode, on every host variant: appenders on one loop, each a write then a flush. The flush's
/// continuation runs inline on the loop as the loop hands out its fsync's answer, so the issue number of the answering fsync read
/// there names the very fsync that answered it: the rule "answered only by an fsync issued after the call" is checked
/// exactly, not by chance.
/// </summary>
public sealed class AioLoopGroupCommitTests : LoopTest
{
    [Theory, EachHost]
    public async Task FlushAsync_OnTheLoop_IsAnsweredOnlyByAnFsyncIssuedAfterItWasCalled(string host)
    {
        Use(host);
        const int Appenders = 8, Commits = 30, Block = 4096;
        AioLoop loop = Host.Loops[0];
        string path = PathOf("log.bin");

        (string? broken, long issued, long answered) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile log = OpenFile(Host, path, FileMode.CreateNew);
            string? broken = null;
            async Task Append(int appender)
            {
                byte[] block = Enumerable.Repeat((byte)(appender + 1), Block).ToArray();
                for (int i = 0; i < Commits; i++)
                {
                    await log.WriteAsync(block, ((long)i * Appenders + appender) * Block);
                    long issuedBeforeTheCall = log.Flushes.IssuedCount;
                    await log.FlushAsync(dataOnly: i % 3 != 0); // some ask for fsync: they share with fdatasyncs
                    long answeredBy = log.Flushes.AnsweringIssueNumber; // inline: the number of the fsync that answered
                    if (answeredBy <= issuedBeforeTheCall)
                    {
                        broken ??= $"appender {appender}, commit {i}: called when {issuedBeforeTheCall} fsyncs were issued, answered by fsync {answeredBy}";
                    }
                    if (AioLoop.Current != loop)
                    {
                        broken ??= "the flush's continuation left the loop";
                    }
                }
            }
            await Task.WhenAll(Enumerable.Range(0, Appenders).Select(Append));
            (long issued, long answered) = (log.Flushes.IssuedCount, log.Flushes.AnsweredCount);
            if (issued >= Appenders * Commits)
            {
                broken ??= $"{issued} fsyncs for {Appenders * Commits} flushes: none shared";
            }
            await log.DisposeAsync();
            return (broken, issued, answered);
        }));

        Assert.Null(broken);
        Assert.Equal(issued, answered);
        Assert.InRange(issued, 1, Appenders * Commits); // (that they shared is checked above, on the loop)
        byte[] data = await File.ReadAllBytesAsync(path);
        Assert.Equal(Appenders * Commits * Block, data.Length);
        for (int slot = 0; slot < Appenders * Commits; slot++)
        {
            Assert.True(data.AsSpan(slot * Block, Block).IndexOfAnyExcept((byte)(slot % Appenders + 1)) < 0, $"slot {slot}");
        }
    }

    // FlushGroup, remark 2: the flushes one turn of the loop takes share one fsync, queued behind that turn's writes —
    // and each is still answered only after its own write completed (SPEC §4; docs/async.md: a flush waits for the
    // writes started before it).
    [Theory, EachHost]
    public async Task WritesAndFlushesBegunInOneTurn_ShareOneFsync_AnsweredAfterEveryWrite(string host)
    {
        Use(host);
        const int Appenders = 16, Rounds = 20, Block = 4096;
        AioLoop loop = Host.Loops[0];
        string path = PathOf("turn.bin");

        (string? broken, long[] fsyncsPerRound) = await Bounded(loop.RunAsync(async () =>
        {
            AioFile log = OpenFile(Host, path, FileMode.CreateNew);
            string? broken = null;
            var fsyncsPerRound = new long[Rounds];
            var writes = new ValueTask<int>[Appenders];
            var flushes = new ValueTask[Appenders];
            byte[][] blocks = Enumerable.Range(0, Appenders).Select(_ => new byte[Block]).ToArray(); // one each: in flight together
            for (int round = 0; round < Rounds; round++)
            {
                long issuedBefore = log.Flushes.IssuedCount;
                for (int a = 0; a < Appenders; a++) // no await between them: one turn of the loop takes them all
                {
                    blocks[a].AsSpan().Fill((byte)(round * Appenders + a));
                    writes[a] = log.WriteAsync(blocks[a].AsMemory(), ((long)round * Appenders + a) * Block);
                    flushes[a] = log.FlushAsync(dataOnly: true);
                }
                for (int a = 0; a < Appenders; a++)
                {
                    ValueTask<int> write = writes[a];
                    await flushes[a];
                    if (!write.IsCompleted)
                    {
                        broken ??= $"round {round}: appender {a}'s flush completed before its write";
                    }
                    if (await write != Block)
                    {
                        broken ??= $"round {round}: appender {a}'s write was short";
                    }
                }
                fsyncsPerRound[round] = log.Flushes.IssuedCount - issuedBefore;
            }
            await log.DisposeAsync();
            return (broken, fsyncsPerRound);
        }));

        Assert.Null(broken);
        Assert.All(fsyncsPerRound, fsyncs => Assert.Equal(1, fsyncs));
        byte[] data = await File.ReadAllBytesAsync(path);
        Assert.Equal(Rounds * Appenders * Block, data.Length);
        for (int slot = 0; slot < Rounds * Appenders; slot++)
        {
            Assert.True(data.AsSpan(slot * Block, Block).IndexOfAnyExcept((byte)slot) < 0, $"slot {slot}");
        }
    }

    [Theory, EachHost]
    public async Task WriteThenFlush_OnTheLoop_AllocatesNothingPerFlush(string host)
    {
        Use(host);
        const int Appenders = 8, Warmup = 800, Measured = 2_000, Block = 4096;
        AioLoop loop = Host.Loops[0];
        string path = CreatePatternFile("alloc.bin", Appenders * Block);

        double best = await Bounded(loop.RunAsync(async () =>
        {
            AioFile log = OpenFile(Host, path);
            byte[][] blocks = Enumerable.Range(0, Appenders).Select(_ => new byte[Block]).ToArray();
            async Task Append(int appender, int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await log.WriteAsync(blocks[appender], appender * (long)Block);
                    await log.FlushAsync(dataOnly: true);
                }
            }
            async Task Round(int each) => await Task.WhenAll(Enumerable.Range(0, Appenders).Select(a => Append(a, each)));

            await Round(Warmup / Appenders);
            // Three windows (as SteadyState_OnTheLoop_AllocatesNothingPerOperation): the appenders' own tasks cost a few
            // hundred bytes per window; anything per flush would show in every window.
            double perCommit = double.MaxValue;
            for (int window = 0; window < 3; window++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                await Round(Measured / Appenders);
                perCommit = Math.Min(perCommit, (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / Measured);
            }
            await log.DisposeAsync();
            return perCommit;
        }));

        Assert.True(best < 1, $"{best:F3} bytes per write + flush in the best of three windows of {Measured}.");
    }
}
