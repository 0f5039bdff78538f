using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>The energy rule's per-head prune statistics (docs/algorithm.md §4, <see cref="PruneStatistic"/>).</summary>
internal static class EnergyPruneStatistics
{
    /// <summary>Whether <paramref name="prune"/> is one of the energy rule's own statistics.</summary>
    public static bool IsEnergyStatistic(PruneStatistic prune) =>
        prune is PruneStatistic.Reference or PruneStatistic.MinorDirection or PruneStatistic.LeaveOneOut;

    /// <summary>Per-head statistic (H) on the host; +∞ for every head when the statistic is not the energy rule's.</summary>
    public static double[] Compute(EnergyRule rule, Tensor c, Tensor full, SpectrumReading reading)
    {
        var layer = rule.Layer;
        var prune = rule.Options.Prune;
        if (!IsEnergyStatistic(prune)) return Enumerable.Repeat(double.PositiveInfinity, layer.HeadCount).ToArray();
        if (prune == PruneStatistic.LeaveOneOut) return LeaveOneOutRatios(rule, c, full, reading);
        // Neither statistic forms the per-head d×d forms M_a,h (that cost O(H·d³) per call).
        Tensor s;
        if (prune == PruneStatistic.Reference)
            s = layer.AntisymmetricCovarianceNorms(c);                          // ‖C M_a,h‖_F
        else
        {
            // u−ᵀ sym(C M_a,h) u− = (C u−)ᵀ (M_a,h u−).
            var u = tensor(reading.UMinus.ToArray(), ScalarType.Float64, c.device);
            s = layer.AntisymmetricFormsTimes(u).matmul(c.matmul(u)).abs();
        }
        return s.cpu().data<double>().ToArray();
    }

    /// <summary>
    /// λmax / θ_w of the layer without each head (<see cref="LeaveOneOutEnergy"/>), with θ_w re-derived from the
    /// reduced operator the way the next call would derive it after the prune. +∞ where no decision is possible:
    /// the last head, or a calibrated θ_w that does not exist yet.
    /// </summary>
    private static double[] LeaveOneOutRatios(EnergyRule rule, Tensor c, Tensor full, SpectrumReading reading)
    {
        var o = rule.Options;
        var layer = rule.Layer;
        int heads = layer.HeadCount;
        if (heads <= 1) return Enumerable.Repeat(double.PositiveInfinity, heads).ToArray();
        var columns = layer.HeadIds.Select(id => rule.ColumnOwners.ToList().IndexOf(id)).ToList();
        bool positive = o.Thresholds == ThresholdMode.RelativePositive;
        bool relative = o.ThetaW is null && ThresholdReference.IsRelative(o.Thresholds);   // θ_w^(−h) from the reduced energy
        // θ_w^(−h): explicit, relative to the reduced operator's energy, or the calibrated one (null: none yet).
        double? Theta(double energy) => o.ThetaW ?? (relative ? o.ThetaRatio * Math.Max(energy, double.Epsilon) : rule.Thresholds?.ThetaW);
        var r = o.LeaveOneOutSolver == LeaveOneOutSolver.Dense
            ? LeaveOneOutEnergy.Compute(c, full, layer.AntisymmetricForms(), rule.Basis, columns, positive)
            : LeaveOneOutLanczos.Compute(c, full, layer, rule.Basis, columns, reading.UPlus, positive,
                boundary: energy => Theta(energy) is { } t ? o.LeaveOneOutRatio * t : double.PositiveInfinity, needEnergy: relative);
        var ratios = new double[heads];
        for (int h = 0; h < heads; h++)
        {
            double? theta = Theta(r.Energy[h]);
            // A non-finite reading becomes NaN so the call is skipped; a θ_w that does not exist yet only means "no
            // decision" (+∞, which the skip check lets through for this statistic).
            if (!double.IsFinite(r.LambdaMax[h]) || (relative && !double.IsFinite(r.Energy[h]))) ratios[h] = double.NaN;
            else ratios[h] = theta is { } t ? r.LambdaMax[h] / t : double.PositiveInfinity;
        }
        return ratios;
    }
}
