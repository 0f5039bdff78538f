using System.Runtime.CompilerServices;

// Native torch state (threads, RNG, dispose scopes) is process-wide: run test classes sequentially,
// as TorchSharp's own suite does.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Incrt.Tests;

internal static class TestSetup
{
    /// <summary>
    /// The tests use tiny tensors, for which intra-op threading only adds synchronisation: measured here, 300 training
    /// steps of a 16-wide layer took 6.9 s with 2 threads and 0.2 s with 1 on a busy 2-core machine.
    /// </summary>
    [ModuleInitializer]
    internal static void SingleThreadedTorch() => TorchSharp.torch.set_num_threads(1);
}
