using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>The reference energy a relative threshold mode takes θ_w as a fraction of (docs/algorithm.md §4).</summary>
internal static class ThresholdReference
{
    /// <summary>Whether <paramref name="mode"/> re-derives θ_w from the current operator at every call.</summary>
    public static bool IsRelative(ThresholdMode mode) => mode is ThresholdMode.Relative or ThresholdMode.RelativePositive;

    /// <summary>
    /// ‖A‖_F for <see cref="ThresholdMode.Relative"/> (and <see cref="ThresholdMode.Calibrated"/>, whose Γ(0) is a
    /// Frobenius norm too), ‖A₊‖_F for <see cref="ThresholdMode.RelativePositive"/>.
    /// </summary>
    /// <param name="fullOperator">A = sym(C M_a), (d, d), unprojected.</param>
    /// <param name="mode">The threshold mode.</param>
    /// <returns>The energy on the host; NaN or ∞ when A is not finite (callers skip the call).</returns>
    public static double Energy(Tensor fullOperator, ThresholdMode mode)
    {
        ArgumentNullException.ThrowIfNull(fullOperator);
        if (mode == ThresholdMode.RelativePositive) return ResidualOperator.PositivePartNorm(fullOperator);
        using var scope = NewDisposeScope();
        return fullOperator.detach().to(ScalarType.Float64).norm().item<double>();
    }
}
