using System.Diagnostics;
using FileAio.Engines;
using FileAio.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileAio.Async;

/// <summary>
/// An open file as the async layer's machinery sees it: its handle and path, the engine loop that serves it, its
/// own flush scope (a flush waits for this file's writes only, SPEC §4), and the gate that counts its operations in
/// flight so that closing can cancel them and wait until the kernel has let go of every buffer.
/// </summary>
/// <remarks>
/// The gate is one word: the number of operations in flight, and <see cref="ClosingBit"/>. Entering increments it
/// and backs out if the bit is set; closing sets the bit with one interlocked OR, after the completion source it
/// signals is in place, so whoever sees the bit also sees the source. Every change is a full fence, so an operation
/// either gets in before the close (and is cancelled and waited for) or is refused — none slips between.
/// Once nothing is in flight, a file whose operations reached the engine is forgotten by it first, on the loop thread
/// (<see cref="EngineLoop.ForgetFile"/>: an io_uring engine thread registers the files it serves, and the kernel's
/// table holds a registered file open), and only then is the close complete.
/// </remarks>
internal sealed class AsyncFile
{
    private const int ClosingBit = 1 << 30;

    private int _gate;                         // operations in flight | ClosingBit
    private TaskCompletionSource? _drained;    // set when closing, completed when nothing is in flight
    private volatile bool _reachedEngine;      // an operation of the file was started on the engine

    public AsyncFile(SafeFileHandle handle, string path, FileTraits traits, EngineLoop loop, bool inlineCompletions)
    {
        Handle = handle;
        Path = path;
        Traits = traits;
        Loop = loop;
        InlineCompletions = inlineCompletions;
    }

    public SafeFileHandle Handle { get; }

    /// <summary>The full path, for error messages.</summary>
    public string Path { get; }

    public FileTraits Traits { get; }

    /// <summary>The engine loop every operation of the file goes to, so that they are ordered on one engine.</summary>
    public EngineLoop Loop { get; }

    /// <summary>The file's operations resume their awaiters inline on the engine thread
    /// (<see cref="AioFileOptions.InlineCompletions"/>; <see cref="ContinuationMode.Inline"/>).</summary>
    public bool InlineCompletions { get; }

    /// <summary>The writes this file's flushes wait for.</summary>
    public FlushScope Scope { get; } = new();

    /// <summary>Group commit of this file's flushes (the loop's; see <see cref="FlushGroup"/>).</summary>
    public FlushGroup Flushes { get; } = new();

    /// <summary>Gathered writes the loop has formed of this file's writes so far (WriteGather; tests, diagnostics).
    /// Written by the loop thread.</summary>
    public long GatheredWriteCount => Volatile.Read(ref _gatheredWrites);

    private long _gatheredWrites;

    /// <summary>The loop formed one more gathered write of this file (loop thread).</summary>
    public void NoteGathered() => Volatile.Write(ref _gatheredWrites, _gatheredWrites + 1);

    public bool IsClosing => (Volatile.Read(ref _gate) & ClosingBit) != 0;

    /// <summary>The loop thread started an operation of this file on its engine, which may have registered the file. Set
    /// before that operation can end, so whoever sees the file drained sees it.</summary>
    public void NoteReachedEngine()
    {
        if (!_reachedEngine)
        {
            _reachedEngine = true;
        }
    }

    /// <summary>Operations counted in flight now (one being refused after the close began may show for a moment).</summary>
    public int InFlight => Volatile.Read(ref _gate) & ~ClosingBit;

    /// <summary>Counts an operation in flight; false (and nothing counted) once closing has begun.</summary>
    public bool TryEnter()
    {
        if ((Interlocked.Increment(ref _gate) & ClosingBit) != 0)
        {
            OperationEnded();
            return false;
        }
        return true;
    }

    /// <summary>Counts one more operation in flight, also after closing began: only for an operation started on behalf
    /// of others that are counted now (a flush carrier for its riders), so the count cannot be at zero and the close
    /// cannot have drained.</summary>
    public void EnterWhileCounted()
    {
        int after = Interlocked.Increment(ref _gate);
        Debug.Assert((after & ~ClosingBit) > 1, "an operation counted on behalf of others needs them counted");
    }

    /// <summary>An operation counted by <see cref="TryEnter"/> has ended: the kernel no longer uses its buffers.</summary>
    public void OperationEnded()
    {
        if (Interlocked.Decrement(ref _gate) == ClosingBit)
        {
            Drained(); // the last one out after the close began
        }
    }

    /// <summary>
    /// Refuses new operations, asks the loop to cancel every operation of this file it holds, and returns a task that
    /// completes when none is in flight (already completed when none was). A second call returns the same task.
    /// </summary>
    public Task BeginClose()
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _drained, drained, null) is TaskCompletionSource earlier)
        {
            return earlier.Task;
        }
        // Full fence: _drained is in place before anyone can see the bit (remarks).
        int before = Interlocked.Or(ref _gate, ClosingBit);
        if (before == 0)
        {
            Drained();
        }
        else
        {
            Loop.CancelFile(this);
        }
        return drained.Task;
    }

    /// <summary>Nothing is in flight and nothing can enter: the close completes, once the engine has forgotten the file
    /// if it ever saw it.</summary>
    private void Drained()
    {
        if (_reachedEngine)
        {
            Loop.ForgetFile(this);
        }
        else
        {
            CompleteClose();
        }
    }

    /// <summary>Completes the close (the task <see cref="BeginClose"/> returned).</summary>
    public void CompleteClose() => _drained!.TrySetResult();
}
