// Native torch state (threads, RNG, dispose scopes) is process-wide: run test classes sequentially,
// as TorchSharp's own suite does.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
