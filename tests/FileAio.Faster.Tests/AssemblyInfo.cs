// FASTER stores are heavy on this 2-core machine and the tests check the open descriptors of their own directory;
// running classes one after another keeps both predictable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
