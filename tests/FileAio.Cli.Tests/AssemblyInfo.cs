// The commands are measured and exercised with real I/O on a 2-core machine; running test classes one at a time keeps
// the bench tests' short runs from competing with each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
