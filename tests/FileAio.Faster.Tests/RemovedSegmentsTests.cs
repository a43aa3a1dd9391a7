namespace FileAio.Faster.Tests;

/// <summary>The removal bookkeeping on its own: exact for any order of removals, and bounded for a log truncated for ever.</summary>
public sealed class RemovedSegmentsTests
{
    [Fact]
    public void Truncations_InFastersOrder_AreRememberedByAWatermarkOnly()
    {
        var removed = new RemovedSegments();
        int start = 0;
        for (int truncation = 1; truncation <= 1000; truncation++)
        {
            int newStart = truncation * 3;
            for (int segment = start; segment < newStart; segment++)
            {
                removed.Add(segment, startSegment: newStart); // StartSegment moves first, then the range goes
            }
            start = newStart;
        }
        Assert.Equal(0, removed.RememberedOneByOne);
        Assert.True(removed.Contains(0) && removed.Contains(2999));
        Assert.False(removed.Contains(3000));
    }

    [Fact]
    public void DirectRemovals_AreExact_AndFoldIntoTheWatermarkOnceContiguous()
    {
        var removed = new RemovedSegments();
        removed.Add(5, startSegment: 0); // a direct call: only segment 5 is gone
        removed.Add(2, startSegment: 0);
        Assert.True(removed.Contains(5) && removed.Contains(2));
        Assert.False(removed.Contains(0) || removed.Contains(3) || removed.Contains(6));

        removed.Add(0, startSegment: 0);
        removed.Add(1, startSegment: 0); // 0, 1, 2 now contiguous from the bottom
        Assert.Equal(1, removed.RememberedOneByOne); // only 5 stays remembered by itself
        Assert.True(removed.Contains(1));
        Assert.False(removed.Contains(3));
    }
}
