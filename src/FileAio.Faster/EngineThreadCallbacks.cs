using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using FASTER.core;

namespace FileAio.Faster;

/// <summary>
/// Which FASTER read callbacks may run on the FileAio engine thread that completed the read
/// (<see cref="FileAioDeviceOptions.InlineReadCallbacks"/>), saving the hop to the thread pool. Known by the callback's
/// context object: FASTER pairs each of the context types below with one callback of its own, and those callbacks do
/// short work only. Everything else — writes, page reads, checkpoint and index I/O, and contexts of user code — hops.
/// </summary>
/// <remarks>
/// <para>What "short" must mean on an engine thread: the thread submits and completes nothing while the callback runs,
/// for every file bound to it (AioFileOptions.InlineCompletions). So the callback must not block (wait for another I/O,
/// a commit, a contended lock), must not take FASTER's epoch (its drain runs arbitrary epoch actions — flushes,
/// truncations, the device's own segment removal), and must not run user code that may do either. Issuing another read
/// is allowed: FileAio takes an operation begun on its engine thread straight into that thread's backlog, never
/// waiting, and the device's Start never waits for other I/O.</para>
/// <para>Verified against the source of FASTER 2.6.5 (github microsoft/FASTER, tag v2.6.5), the version this package
/// builds against (the assembly's commit is checked); any other build of FASTER.core gets no inline callbacks at all,
/// since these are its internals.</para>
/// <para>1. <c>AsyncGetFromDiskResult&lt;AsyncIOContext&lt;K, V&gt;&gt;</c> (a boxed struct) is created only by
/// <c>AllocatorBase.AsyncReadRecordToMemory</c> and <c>GenericAllocator.AsyncReadRecordObjectsToMemory</c>, both called
/// only from <c>AsyncGetFromDisk</c> with <c>AsyncGetFromDiskCallback</c> — FasterKV's read of one record that missed
/// memory (a pending Read or RMW, iteration, ReadAtAddress). That callback: finds the record's size in the buffer; asks
/// the allocator's <c>RetrievedFullRecord</c>, which for blittable K and V (BlittableAllocator, or
/// VariableLengthBlittableAllocator for SpanByte) copies the key and value or returns true — only the GenericAllocator,
/// chosen when K or V holds references, reads an object log and deserializes with user serializers, hence the
/// restriction; compares keys with the store's <c>IFasterEqualityComparer</c> (FASTER's own for long, SpanByte …; a
/// user's comparer runs here, as it runs inside FASTER's latch-free hot paths, and must be as short); then either hands
/// the result over — <c>AsyncQueue.Enqueue</c> (ConcurrentQueue + <c>SemaphoreSlim.Release</c>, whose async waiters
/// resume on the pool), <c>TaskCompletionSource.TrySetResult</c> (created <c>RunContinuationsAsynchronously</c> in
/// <c>HandleOperationStatus</c>), or the scan's <c>AsyncIOContextCompletionEvent.Set</c> (a <c>SemaphoreSlim</c>) — or,
/// on a key that is not the one asked for (a hash-chain collision) or a record longer than was read, returns its
/// buffer to the pool and issues the next read through <c>AsyncGetFromDisk</c>, whose throttle spin and epoch refresh
/// run only when the calling thread holds the epoch (<c>epoch.ThisInstanceProtected()</c>), which an engine thread
/// never does. The session's own read callback (<c>IFunctions.ReadCompletionCallback</c>) is not called here but later,
/// in the session's <c>CompletePending</c>.</para>
/// <para>2. <c>SimpleReadContext</c> is created only by FasterLog's random reads (<c>ReadAsync</c>,
/// <c>ReadRecordLengthAsync</c>), with <c>AsyncGetFromDiskCallback</c> or <c>AsyncGetHeaderOnlyFromDiskCallback</c>:
/// each reads the entry's length from the buffer, then releases the reader's <c>SemaphoreSlim</c> (awaited with
/// <c>WaitAsync</c>: the reader resumes on the pool) or, for an entry longer than was read, returns the buffer and issues
/// the longer read (<c>AsyncReadRecordToMemory</c>, no epoch). A corrupt length is logged (<c>LogDebug</c>) first.</para>
/// <para>A read that failed hops whatever its context (DeviceIo): both callbacks then log the error through the store's
/// <c>ILogger</c>, user code.</para>
/// </remarks>
internal static class EngineThreadCallbacks
{
    /// <summary>The commit of FASTER's tag v2.6.5, whose internals were read for this list. Microsoft.FASTER.Core 2.6.5's
    /// assembly says it only in its informational version (<c>1.0.0+&lt;commit&gt;</c>); its assembly version is
    /// 1.0.0.0 in every release.</summary>
    private const string VerifiedCommit = "e25782f602fca13b9d6dd812dfdc7facab52f0bd";

    private static readonly Assembly s_faster = typeof(IDevice).Assembly;
    private static readonly bool s_fasterVerified =
        s_faster.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.EndsWith("+" + VerifiedCommit, StringComparison.Ordinal) == true;
    private static readonly Type? s_asyncGetFromDiskResult = s_faster.GetType("FASTER.core.AsyncGetFromDiskResult`1");
    private static readonly Type? s_simpleReadContext = s_faster.GetType("FASTER.core.SimpleReadContext");
    private static readonly MethodInfo s_containsReferences =
        typeof(RuntimeHelpers).GetMethod(nameof(RuntimeHelpers.IsReferenceOrContainsReferences))!;

    private static readonly ConcurrentDictionary<Type, bool> s_classified = new();
    private static readonly Func<Type, bool> s_classify = Classify;

    /// <summary>Whether the callback of a successful read with this context may run on the engine thread. One
    /// dictionary lookup per call once the type is known.</summary>
    public static bool RunsInline(object? context) =>
        s_fasterVerified && context is not null && s_classified.GetOrAdd(context.GetType(), s_classify);

    /// <summary>The rule of the remarks, for one context type.</summary>
    internal static bool Classify(Type type)
    {
        if (type == s_simpleReadContext)
        {
            return true; // remark 2
        }
        if (s_asyncGetFromDiskResult is not null && type.IsGenericType && type.GetGenericTypeDefinition() == s_asyncGetFromDiskResult)
        {
            Type inner = type.GetGenericArguments()[0];
            if (inner.IsGenericType && inner.GetGenericTypeDefinition() == typeof(AsyncIOContext<,>))
            {
                // Remark 1: FASTER chooses the GenericAllocator, whose callback deserializes, by this same test.
                return inner.GetGenericArguments().All(t => !ContainsReferences(t));
            }
        }
        return false;
    }

    private static bool ContainsReferences(Type type) =>
        (bool)s_containsReferences.MakeGenericMethod(type).Invoke(null, null)!;
}
