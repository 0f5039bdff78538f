using Incrt.Attention;

namespace Incrt.Control;

/// <summary>A layer's rules: one growth rule and at most one prune rule (the same object may be both).</summary>
/// <param name="Growth">Decides when to add a head.</param>
/// <param name="Prune">Decides which head to remove; null never prunes.</param>
public sealed record HeadRuleSet(IGrowthRule Growth, IPruneRule? Prune);

/// <summary>Builds the rules of the <paramref name="index"/>-th controlled layer.</summary>
public delegate HeadRuleSet HeadRuleFactory(GrowableMultiHeadAttention layer, int index);

/// <summary>The rule sets the options name (<see cref="ControllerOptions.Growth"/>, <see cref="ControllerOptions.Prune"/>).</summary>
public static class HeadRules
{
    /// <summary>
    /// <see cref="GrowthSignal.Energy"/> and the energy prune statistics share one <see cref="EnergyRule"/> per layer;
    /// <see cref="GrowthSignal.LossPlateau"/> is a <see cref="LossPlateauGrowthRule"/>, <see cref="PruneStatistic.MaskedLoss"/>
    /// a <see cref="MaskedLossPruneRule"/>, <see cref="PruneStatistic.None"/> no prune rule.
    /// </summary>
    public static HeadRuleFactory FromOptions(ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return (layer, index) =>
        {
            EnergyRule? energy = null;
            EnergyRule Energy() => energy ??= new EnergyRule(layer, index, options);
            IGrowthRule growth = options.Growth == GrowthSignal.LossPlateau
                ? new LossPlateauGrowthRule(options.LossAware, HeadInit.FunctionPreserving)
                : Energy();
            IPruneRule? prune = options.Prune switch
            {
                PruneStatistic.None => null,
                PruneStatistic.MaskedLoss => new MaskedLossPruneRule(options.LossAware),
                _ => Energy(),
            };
            return new HeadRuleSet(growth, prune);
        };
    }
}
