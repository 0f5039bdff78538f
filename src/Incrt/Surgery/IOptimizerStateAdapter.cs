using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Surgery;

/// <summary>One per-parameter optimizer state tensor that must be resized with its parameter.</summary>
/// <param name="Name">State name as in PyTorch (e.g. <c>exp_avg</c>).</param>
/// <param name="Get">Reads the current tensor (null when the optimizer has not created it yet).</param>
/// <param name="Set">Stores the replacement tensor.</param>
/// <param name="WarmStartable">Whether <see cref="NewHeadMoments.WarmStart"/> may fill a new head's slice from the mean of
/// the existing heads (true for second moments, false for first moments and momentum buffers).</param>
public sealed record StateSlot(string Name, Func<Tensor?> Get, Action<Tensor> Set, bool WarmStartable);

/// <summary>
/// Knows where an optimizer type keeps per-parameter state, so <see cref="HeadSurgery"/> can resize it together
/// with the parameters. Register adapters for other optimizers with <see cref="HeadSurgery.RegisterAdapter"/>.
/// </summary>
public interface IOptimizerStateAdapter
{
    /// <summary>True when this adapter understands <paramref name="state"/>'s concrete type.</summary>
    bool CanHandle(OptimizerState state);

    /// <summary>The state tensors of one parameter whose leading dimension follows the parameter's.</summary>
    IEnumerable<StateSlot> Slots(OptimizerState state);
}
