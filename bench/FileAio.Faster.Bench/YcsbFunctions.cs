using FASTER.core;

namespace FileAio.Faster.Bench;

/// <summary>
/// FASTER's callbacks for one worker's session: reads copy the whole record out (a YCSB read returns the record), and a
/// read that went to the device is finished here, on the worker's own thread, inside its <c>CompletePending</c>.
/// </summary>
/// <remarks>Each worker has its own instance, so the counters it touches need no synchronisation.</remarks>
internal sealed class YcsbFunctions(YcsbWorker worker) : FunctionsBase<long, Record, Empty, Record, long>
{
    public override bool SingleReader(ref long key, ref Empty input, ref Record value, ref Record dst, ref ReadInfo readInfo)
    {
        dst = value;
        return true;
    }

    public override bool ConcurrentReader(ref long key, ref Empty input, ref Record value, ref Record dst, ref ReadInfo readInfo)
    {
        dst = value;
        return true;
    }

    /// <summary>A read that went pending (to the device) is done; <paramref name="ctx"/> is its start timestamp.</summary>
    public override void ReadCompletionCallback(ref long key, ref Empty input, ref Record output, long ctx, Status status,
        RecordMetadata recordMetadata) =>
        worker.PendingReadDone(ctx, status.Found && output.Key == key);
}
