using TorchSharp.Modules;

namespace Incrt.Surgery;

/// <summary>Adam: first and second moments, and the AMSGrad maximum when enabled. The shared <c>step</c> is kept.</summary>
internal sealed class AdamStateAdapter : IOptimizerStateAdapter
{
    public bool CanHandle(OptimizerState state) => state is Adam.State;

    public IEnumerable<StateSlot> Slots(OptimizerState state)
    {
        var s = (Adam.State)state;
        yield return new StateSlot("exp_avg", () => s.exp_avg, t => s.exp_avg = t, false);
        yield return new StateSlot("exp_avg_sq", () => s.exp_avg_sq, t => s.exp_avg_sq = t, true);
        yield return new StateSlot("max_exp_avg_sq", () => s.max_exp_avg_sq, t => s.max_exp_avg_sq = t, true);
    }
}

/// <summary>AdamW: the same moments as Adam, in AdamW's own state type.</summary>
internal sealed class AdamWStateAdapter : IOptimizerStateAdapter
{
    public bool CanHandle(OptimizerState state) => state is AdamW.State;

    public IEnumerable<StateSlot> Slots(OptimizerState state)
    {
        var s = (AdamW.State)state;
        yield return new StateSlot("exp_avg", () => s.exp_avg, t => s.exp_avg = t, false);
        yield return new StateSlot("exp_avg_sq", () => s.exp_avg_sq, t => s.exp_avg_sq = t, true);
        yield return new StateSlot("max_exp_avg_sq", () => s.max_exp_avg_sq, t => s.max_exp_avg_sq = t, true);
    }
}

/// <summary>SGD: the momentum buffer (absent before the first step or without momentum).</summary>
internal sealed class SgdStateAdapter : IOptimizerStateAdapter
{
    public bool CanHandle(OptimizerState state) => state is SGD.State;

    public IEnumerable<StateSlot> Slots(OptimizerState state)
    {
        var s = (SGD.State)state;
        yield return new StateSlot("momentum_buffer", () => s.momentum_buffer, t => s.momentum_buffer = t, false);
    }
}
