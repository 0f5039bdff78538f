using Incrt.Energy;

namespace Incrt.Control;

/// <summary>
/// Named controller settings, so every number in the docs can be reproduced (docs/algorithm.md §8). Each is a
/// <see cref="ControllerOptions"/>; change single settings with <c>with { … }</c>.
/// </summary>
public static class ControllerPresets
{
    /// <summary>
    /// The settings the paper and its author's code state [paper, ref-code]: θ_w fixed at 0.1·Γ(0) after calibration, the
    /// online Oja/MCA estimator, covariance of the first sequence of the batch, random new heads, the raw dwell-time
    /// formula, the reference prune statistic. Measured: the layer hardly ever grows within a run (docs/algorithm.md §4).
    /// </summary>
    public static ControllerOptions Paper { get; } = new()
    {
        Thresholds = ThresholdMode.Calibrated,
        Estimator = new EstimatorOptions { Mode = EstimatorMode.Online },
        Covariance = CovarianceSource.FirstSequence,
        NewHead = GrowthInit.Random,
        MaxDwellCalls = null,
        Growth = GrowthSignal.Energy,
        Prune = PruneStatistic.Reference,
    };

    /// <summary>The directional-energy rule with this library's measured fixes (relative θ_w, exact spectrum, capped
    /// dwell, eigen-seeded heads, reference pruning): <c>new ControllerOptions()</c>.</summary>
    public static ControllerOptions Energy { get; } = new();

    /// <summary>The recommended preset, used when <see cref="HeadController"/> gets no options: <see cref="LossAware"/>,
    /// the only rule measured to land on the minimal head count of the planted tasks (docs/algorithm.md §8).</summary>
    public static ControllerOptions Default => LossAware;

    /// <summary>
    /// Loss-aware growth and pruning (<see cref="LossPlateauGrowthRule"/>, <see cref="MaskedLossPruneRule"/>) with
    /// function-preserving trial heads. Needs <see cref="HeadController.LossProbe"/>.
    /// </summary>
    public static ControllerOptions LossAware { get; } = new()
    {
        Growth = GrowthSignal.LossPlateau,
        Prune = PruneStatistic.MaskedLoss,
        NewHead = GrowthInit.FunctionPreserving,
    };
}
