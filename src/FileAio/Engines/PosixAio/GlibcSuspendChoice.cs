namespace FileAio.Engines.PosixAio;

/// <summary>An armed request as the glibc reaper sees it before it sleeps: its descriptor, the order it was armed in,
/// and its slot.</summary>
internal readonly record struct SuspendCandidate(int Fd, long Sequence, int Slot);

/// <summary>
/// Which of the armed requests the glibc reaper lists in <c>aio_suspend</c>: one per descriptor, chosen so that the
/// helper thread serving that descriptor is not made to wake the reaper after every request.
/// </summary>
/// <remarks>
/// <para>Why. glibc serves a descriptor's requests one after another on one helper thread, in the order they were
/// queued (aio-abi.md §2.5). A listed request that finishes makes its helper wake the sleeper (a futex call under
/// glibc's one lock) before it starts the next request; an unlisted one costs nothing. Listing every request — or
/// each descriptor's oldest — wakes the reaper after every completion, and the helper pays two system calls on its
/// critical path each time: measured, 2.3 futex calls per read against fio's 1.0, and 0.83–0.93× its IOPS.</para>
/// <para>What. The reaper wakes when the first listed request finishes. Listing a descriptor's request at position
/// <c>p</c> (1-based, in arming order) lets up to <c>p − 1</c> of its requests finish unseen; so while the sum of
/// <c>p − 1</c> over the descriptors stays below <c>wanted</c>, the caller cannot have its completions before the
/// reaper wakes (the sleep is <em>exact</em>). The exact positions share that budget of <c>wanted − 1</c> among the
/// descriptors in turn. Coalescing then moves each descriptor's position up to the middle of its queue, so that the
/// reaper sleeps through half of it while the other half keeps the helper busy; when that lets the sum reach
/// <c>wanted</c>, the choice is <em>coalesced</em> — the caller may be ready before the reaper wakes — and the platform
/// caps such a sleep with a short slice (docs/engines.md). With one descriptor and one completion wanted: the oldest
/// at depth 1 and 2, the middle one deeper.</para>
/// <para>The order assumption (a descriptor's requests finish in arming order) can fail: a request queued again
/// alone after a partly refused batch, or submitters with real-time scheduling priorities (glibc orders by them). Then
/// an exact sleep may last until a request that runs later finishes — bounded by that request and the caller's
/// deadline — and nothing is lost: after every sleep the reaper harvests whatever finished.</para>
/// </remarks>
internal static class GlibcSuspendChoice
{
    /// <summary>Sorts <paramref name="candidates"/> by descriptor, then arming order (in place), and writes the slot to
    /// list for each descriptor into <paramref name="chosen"/> (at least as long as the candidates). Returns how many
    /// were written. <paramref name="coalesced"/>: the listed requests let <paramref name="wanted"/> or more finish
    /// unseen, so the caller may be ready before the reaper wakes. With <paramref name="coalesce"/> false the choice
    /// is always exact.</summary>
    public static int Choose(Span<SuspendCandidate> candidates, int wanted, bool coalesce, Span<int> chosen, out bool coalesced)
    {
        candidates.Sort(ByFdThenSequence);
        wanted = Math.Max(wanted, 1);
        int exactBudget = wanted - 1;  // requests the exact positions may let finish unseen, all descriptors together
        long unseen = 0;
        int written = 0;
        for (int start = 0; start < candidates.Length;)
        {
            int end = start + 1;
            while (end < candidates.Length && candidates[end].Fd == candidates[start].Fd)
            {
                end++;
            }
            int queued = end - start;
            int exact = 1 + Math.Min(exactBudget, queued - 1);
            exactBudget -= exact - 1;
            int position = coalesce ? Math.Max(exact, (queued + 1) / 2) : exact;
            unseen += position - 1;
            chosen[written++] = candidates[start + position - 1].Slot;
            start = end;
        }
        coalesced = unseen >= wanted;
        return written;
    }

    /// <summary>A static lambda is cached once (a struct comparer would be boxed by the sort).</summary>
    private static readonly Comparison<SuspendCandidate> ByFdThenSequence = static (x, y) =>
        x.Fd != y.Fd ? x.Fd.CompareTo(y.Fd) : x.Sequence.CompareTo(y.Sequence);
}
