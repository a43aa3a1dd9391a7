namespace FileAio.Faster;

/// <summary>
/// The segments of a device that were removed, so that an I/O arriving late — issued before the removal, or racing it —
/// can be refused instead of reopening or re-creating a file that nothing would remove again.
/// </summary>
/// <remarks>Not thread-safe: <see cref="SegmentFiles"/> calls it under its lock. Memory stays bounded for a log that is
/// truncated for ever: FASTER truncates (<c>TruncateUntilSegmentAsync</c>, also for a bounded capacity) by moving
/// <c>StartSegment</c> past a range first and then removing the range in ascending order, so a segment removed below
/// <c>StartSegment</c> means every segment below it is removed or being removed, and a watermark says so. Only removals
/// at or above <c>StartSegment</c> (a direct call) are remembered one by one, until the watermark passes them.</remarks>
internal sealed class RemovedSegments
{
    private int _below;                         // every segment below this one is removed
    private readonly HashSet<int> _above = [];  // removed segments at or above _below

    public bool Contains(int segment) => segment < _below || _above.Contains(segment);

    /// <summary>Removed segments remembered one by one, above the watermark (what the memory grows with).</summary>
    public int RememberedOneByOne => _above.Count;

    /// <summary>Records the removal of <paramref name="segment"/>, the device's <c>StartSegment</c> being
    /// <paramref name="startSegment"/> at the time.</summary>
    public void Add(int segment, int startSegment)
    {
        if (segment < startSegment)
        {
            _below = Math.Max(_below, segment + 1);
            _above.RemoveWhere(s => s < _below);
        }
        else
        {
            _above.Add(segment);
        }
        while (_above.Remove(_below))
        {
            _below++;
        }
    }
}
