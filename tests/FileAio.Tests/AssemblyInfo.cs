// The suite checks process-wide facts (open descriptors, threads) and runs timing-sensitive races; running test
// classes one after another keeps those checks exact. Each race test brings its own threads.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
