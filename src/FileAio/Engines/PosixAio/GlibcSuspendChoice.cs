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
/// critical path each time: measured, 3.7 futex calls per request against fio's 0.8, and 0.83–0.9× its IOPS.</para>
/// <para>What. Per descriptor with <c>q</c> requests queued, the request at position <c>max(min(wanted, q),
/// (q + 1) / 2)</c> in arming order (1-based): the one whose completion means the caller has what it asked for, or,
/// when it asked for fewer, the middle one — the reaper then sleeps through half the queue, and the other half keeps
/// the helper busy while it resubmits. Waking later than the caller asked is <em>coalescing</em>: the platform caps
/// such a sleep with a short slice, so the added latency is bounded (docs/engines.md). At depth 1 or 2 the oldest is
/// listed, as before.</para>
/// <para>Correctness never depends on the order assumption: whatever is listed, the reaper harvests every finished
/// request after each sleep, and its deadline bounds every sleep.</para>
/// </remarks>
internal static class GlibcSuspendChoice
{
    /// <summary>Sorts <paramref name="candidates"/> by descriptor, then arming order (in place), and writes the slot to
    /// list for each descriptor into <paramref name="chosen"/> (at least as long as the candidates). Returns how many
    /// were written; <paramref name="coalesced"/> says whether any listed request lies past the one that would give
    /// the caller its <paramref name="wanted"/> completions. With <paramref name="coalesce"/> false, never: each
    /// descriptor's request at position <c>min(wanted, q)</c> is listed.</summary>
    public static int Choose(Span<SuspendCandidate> candidates, int wanted, bool coalesce, Span<int> chosen, out bool coalesced)
    {
        coalesced = false;
        candidates.Sort(ByFdThenSequence);
        int written = 0;
        int exactWanted = Math.Max(wanted, 1);
        for (int start = 0; start < candidates.Length;)
        {
            int end = start + 1;
            while (end < candidates.Length && candidates[end].Fd == candidates[start].Fd)
            {
                end++;
            }
            int queued = end - start;
            int exact = Math.Min(exactWanted, queued);
            int position = coalesce ? Math.Max(exact, (queued + 1) / 2) : exact;
            coalesced |= position > exact;
            chosen[written++] = candidates[start + position - 1].Slot;
            start = end;
        }
        return written;
    }

    /// <summary>A static lambda is cached once (a struct comparer would be boxed by the sort).</summary>
    private static readonly Comparison<SuspendCandidate> ByFdThenSequence = static (x, y) =>
        x.Fd != y.Fd ? x.Fd.CompareTo(y.Fd) : x.Sequence.CompareTo(y.Sequence);
}
