using Incrt.Control;
using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Theory;

/// <summary>Theorem 1 ("homeostatic convergence") conditions of one layer at the end of a run (docs/theory.md §4).</summary>
/// <param name="Layer">Layer index in the controller.</param>
/// <param name="Heads">Final head count.</param>
/// <param name="Calls">Controller calls made.</param>
/// <param name="CallsSinceLastChange">Calls since the layer last grew or pruned (or since calibration).</param>
/// <param name="Stopped">No growth or pruning in the last <see cref="HomeostasisCheck.StoppedFraction"/> of the calls.</param>
/// <param name="LambdaMax">Last λmax of A_res.</param>
/// <param name="ThetaW">Last θ_w.</param>
/// <param name="Sufficient">λmax ≤ θ_w at the end (no uncaptured direction above threshold).</param>
/// <param name="HeadsBelowPhiG">Heads that are redundant by the controller's selected prune rule at the last call
/// (<see cref="HeadController.RedundantHeads"/>: statistic below φ_g for the φ_g rules, leave-one-out ratio at most
/// <see cref="ControllerOptions.LeaveOneOutRatio"/> for <see cref="PruneStatistic.LeaveOneOut"/>).</param>
/// <param name="Minimal">No head is redundant by that rule (<see cref="HeadsBelowPhiG"/> = 0).</param>
/// <param name="HeadsNecessary">Heads whose removal (its M_a,h out of the motor and its Q column, if any, out of the
/// basis) raises λmax of the last input's A_res above θ_w; −1 when not evaluated (no captured input).</param>
/// <param name="Converged">The controller's own homeostasis flag (<see cref="HeadController.IsConverged"/> for this layer's
/// state: sufficient and minimal).</param>
public sealed record HomeostasisReport(int Layer, int Heads, long Calls, long CallsSinceLastChange, bool Stopped,
    double LambdaMax, double ThetaW, bool Sufficient, int HeadsBelowPhiG, bool Minimal, int HeadsNecessary, bool Converged)
{
    /// <summary>λmax/θ_w at the end (NaN before calibration).</summary>
    public double EnergyRatio => LambdaMax / ThetaW;

    /// <summary>Stopped, sufficient and minimal.</summary>
    public bool AllHold => Stopped && Sufficient && Minimal;
}

/// <summary>
/// Reads Theorem 1's conditions off a finished <see cref="HeadController"/> without changing it: stopped, sufficient
/// (λmax ≤ θ_w), minimal (no head redundant by the selected prune rule), plus an ablation count of necessary heads.
/// </summary>
public static class HomeostasisCheck
{
    /// <summary>Fraction of the calls at the end that must be free of changes for <see cref="HomeostasisReport.Stopped"/> (20%, issue 5).</summary>
    public const double StoppedFraction = 0.2;

    /// <summary>Checks layer <paramref name="layer"/> of <paramref name="controller"/>.</summary>
    /// <param name="controller">A controller after training (not disposed).</param>
    /// <param name="layer">Layer index.</param>
    /// <param name="ablate">Also count necessary heads by removing each from the operator built on the layer's last
    /// captured input (one d×d eigh per head).</param>
    /// <exception cref="ArgumentOutOfRangeException">Bad layer index.</exception>
    public static HomeostasisReport Check(HeadController controller, int layer = 0, bool ablate = true)
    {
        ArgumentNullException.ThrowIfNull(controller);
        if (layer < 0 || layer >= controller.Layers.Count)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The controller has {controller.Layers.Count} layer(s).");
        var l = controller.Layers[layer];
        var t = controller.Thresholds(layer);
        var r = controller.LastReading(layer);
        double lambda = r?.LambdaMax ?? double.NaN, theta = t?.ThetaW ?? double.NaN;
        bool sufficient = t is not null && r is not null && lambda <= theta;
        int below = t is null ? 0 : controller.RedundantHeads(layer);
        bool minimal = t is not null && below == 0;
        long calls = controller.Calls, since = controller.CallsSinceLayerChange(layer);
        bool stopped = t is not null && calls > 0 && since >= (long)Math.Ceiling(StoppedFraction * calls);
        int necessary = ablate && t is not null ? NecessaryHeads(controller, layer, theta) : -1;
        return new HomeostasisReport(layer, l.HeadCount, calls, since, stopped, lambda, theta, sufficient, below, minimal,
            necessary, sufficient && minimal);
    }

    private static int NecessaryHeads(HeadController controller, int layer, double theta)
    {
        var l = controller.Layers[layer];
        var inputs = controller.Inputs(layer);
        var (x, mask) = (inputs.Input, inputs.KeyPaddingMask);
        if (x is null) return -1;
        using var scope = NewDisposeScope();
        var c = ResidualOperator.Covariance(x.to(ScalarType.Float64).cpu(), mask?.cpu());
        var forms = l.AntisymmetricForms().to(ScalarType.Float64).cpu();             // (H, d, d)
        var full = ResidualOperator.Build(c, forms.sum(dim: 0));
        var owners = controller.BasisOwners(layer).ToList();
        var columns = l.HeadIds.Select(id => owners.IndexOf(id)).ToList();
        // The same leave-one-out operators the LeaveOneOut prune rule reads: M_a,h out of the motor, h's Q column
        // (if any) back into P⊥.
        var reading = LeaveOneOutEnergy.Compute(c, full, forms, controller.Basis(layer), columns);
        return reading.LambdaMax.Count(lambda => lambda > theta);
    }
}
