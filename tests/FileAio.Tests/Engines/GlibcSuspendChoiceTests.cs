using FileAio.Engines.PosixAio;

namespace FileAio.Tests.Engines;

/// <summary>Which armed request per descriptor the glibc reaper lists in <c>aio_suspend</c> (GlibcSuspendChoice).</summary>
public sealed class GlibcSuspendChoiceTests
{
    /// <summary>Candidates for one descriptor armed in order: slot s armed as the s-th.</summary>
    private static SuspendCandidate[] Queue(int fd, int count, int firstSlot = 0, long firstSequence = 0) =>
        [.. Enumerable.Range(0, count).Select(i => new SuspendCandidate(fd, firstSequence + i, firstSlot + i))];

    private static (int[] Chosen, bool Coalesced) Choose(SuspendCandidate[] candidates, int wanted, bool coalesce = true)
    {
        var chosen = new int[candidates.Length];
        int n = GlibcSuspendChoice.Choose(candidates, wanted, coalesce, chosen, out bool coalesced);
        return (chosen[..n], coalesced);
    }

    private static void AssertChoice(int[] expectedSlots, bool expectCoalesced, (int[] Chosen, bool Coalesced) actual)
    {
        Assert.Equal(expectedSlots, actual.Chosen);
        Assert.Equal(expectCoalesced, actual.Coalesced);
    }

    [Fact]
    public void Nothing_ListsNothing()
    {
        (int[] chosen, bool coalesced) = Choose([], 1);
        Assert.Empty(chosen);
        Assert.False(coalesced);
    }

    [Theory]
    [InlineData(1, 1, 0, false)]   // depth 1: the one
    [InlineData(2, 1, 0, false)]   // depth 2: the oldest
    [InlineData(3, 1, 1, true)]    // depth 3: the middle one
    [InlineData(32, 1, 15, true)]  // depth 32, one wanted: the 16th, half the queue
    [InlineData(32, 20, 19, false)] // more wanted than half: exactly the wanted-th
    [InlineData(32, 32, 31, false)]
    [InlineData(8, 50, 7, false)]   // more wanted than queued: the last
    [InlineData(8, 0, 3, true)]     // none wanted counts as one
    public void OneDescriptor_ListsTheRequestAtItsPosition(int queued, int wanted, int expectedSlot, bool expectCoalesced)
    {
        (int[] chosen, bool coalesced) = Choose(Queue(fd: 5, queued), wanted);
        Assert.Equal([expectedSlot], chosen);
        Assert.Equal(expectCoalesced, coalesced);
    }

    [Fact]
    public void WithoutCoalescing_ListsExactlyTheWantedTh()
    {
        AssertChoice([0], false, Choose(Queue(fd: 5, 32), wanted: 1, coalesce: false));
        AssertChoice([9], false, Choose(Queue(fd: 5, 32), wanted: 10, coalesce: false));
    }

    [Fact]
    public void ArmingOrderDecides_NotSlotOrder()
    {
        // Slots reused out of order: slot 9 was armed first, slot 0 last.
        SuspendCandidate[] candidates =
        [
            new(3, Sequence: 104, Slot: 0), new(3, 100, 9), new(3, 102, 4), new(3, 101, 7), new(3, 103, 2),
        ];
        AssertChoice([4], true, Choose(candidates, wanted: 1)); // the 3rd armed of 5
        AssertChoice([9], false, Choose(candidates, wanted: 1, coalesce: false));
    }

    [Fact]
    public void SeveralDescriptors_OnePerDescriptor_EachByItsOwnQueue()
    {
        // Interleaved as a scan of the slots finds them: fd 7 has 6 queued, fd 4 has 1, fd 9 has 2.
        SuspendCandidate[] candidates =
        [
            new(7, 0, 0), new(4, 1, 1), new(7, 2, 2), new(9, 3, 3), new(7, 4, 4),
            new(7, 5, 5), new(9, 6, 6), new(7, 7, 7), new(7, 8, 8),
        ];
        (int[] chosen, bool coalesced) = Choose(candidates, wanted: 1);
        Assert.Equal([1, 4, 3], chosen); // fd 4: its only one; fd 7: the 3rd of 6; fd 9: the oldest of 2
        Assert.True(coalesced);
    }

    [Fact]
    public void TwoDescriptors_TwoWanted_TheExactPositionsShareOneBudget()
    {
        // fd 3 = [slot 0, slot 1], fd 4 = [slot 2, slot 3]. Listing the second of each would let slots 0 and 2 finish
        // unseen: the caller would have its two while the reaper slept on.
        SuspendCandidate[] candidates = [.. Queue(fd: 3, 2, firstSlot: 0), .. Queue(fd: 4, 2, firstSlot: 2, firstSequence: 2)];
        AssertChoice([1, 2], false, Choose(candidates, wanted: 2));
        AssertChoice([1, 2], false, Choose(candidates, wanted: 2, coalesce: false));
    }

    [Fact]
    public void TwoDescriptors_OneWanted_CoalescedWhenEitherMovesPastItsOldest()
    {
        SuspendCandidate[] candidates = [.. Queue(fd: 3, 8, firstSlot: 0), .. Queue(fd: 4, 1, firstSlot: 8, firstSequence: 8)];
        AssertChoice([3, 8], true, Choose(candidates, wanted: 1));
        AssertChoice([0, 8], false, Choose(candidates, wanted: 1, coalesce: false));
    }

    /// <summary>The rule, on random queues: one listed request per descriptor; an exact choice lets fewer than
    /// <c>wanted</c> finish unseen and uses all of that budget it can (as few wakes as possible); a coalescing choice
    /// lists at least the middle of each queue and no earlier than the exact position, and says it coalesced exactly
    /// when it lets <c>wanted</c> or more finish unseen.</summary>
    [Fact]
    public void Random_ExactAndCoalescedChoicesKeepTheRule()
    {
        var random = new Random(12345);
        for (int round = 0; round < 1000; round++)
        {
            int count = random.Next(0, 200);
            int[] sequences = [.. Enumerable.Range(0, count)];
            random.Shuffle(sequences); // unique: arming order is a total order
            SuspendCandidate[] candidates =
                [.. Enumerable.Range(0, count).Select(i => new SuspendCandidate(random.Next(3, 3 + random.Next(1, 6)), sequences[i], i))];
            var queues = candidates.GroupBy(c => c.Fd).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Sequence).ToArray());
            int wanted = random.Next(0, 40);
            int budget = Math.Max(wanted, 1) - 1;

            Dictionary<int, int> exact = Positions(Choose([.. candidates], wanted, coalesce: false), out bool exactCoalesced);
            long exactUnseen = exact.Values.Sum(p => p - 1L);
            Assert.False(exactCoalesced);
            Assert.True(exactUnseen <= budget, $"exact lets {exactUnseen} finish unseen, wanted {wanted}");
            Assert.Equal(Math.Min(budget, queues.Values.Sum(q => q.Length - 1L)), exactUnseen);

            Dictionary<int, int> coalesced = Positions(Choose([.. candidates], wanted), out bool didCoalesce);
            foreach ((int fd, int position) in coalesced)
            {
                Assert.True(position >= exact[fd] && position >= (queues[fd].Length + 1) / 2, $"fd {fd}: position {position}");
            }
            Assert.Equal(coalesced.Values.Sum(p => p - 1L) >= Math.Max(wanted, 1), didCoalesce);

            Dictionary<int, int> Positions((int[] Chosen, bool Coalesced) choice, out bool flag)
            {
                flag = choice.Coalesced;
                Assert.Equal(queues.Count, choice.Chosen.Length);
                var positions = new Dictionary<int, int>();
                foreach (int slot in choice.Chosen)
                {
                    SuspendCandidate c = candidates.Single(x => x.Slot == slot);
                    positions.Add(c.Fd, Array.IndexOf(queues[c.Fd], c) + 1); // Add throws on a second one per descriptor
                }
                return positions;
            }
        }
    }
}
