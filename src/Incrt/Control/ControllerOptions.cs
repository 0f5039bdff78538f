using Incrt.Energy;
using Incrt.Surgery;

namespace Incrt.Control;

/// <summary>Which token representations feed the covariance C = XᵀX/n of the residual operator (docs/algorithm.md §2).</summary>
public enum CovarianceSource
{
    /// <summary>The layer's own input, averaged over the batch with padding excluded [inferred, default].</summary>
    BatchMean,
    /// <summary>The layer's input for the first sequence of the batch only [ref-code].</summary>
    FirstSequence,
}

/// <summary>Which per-head statistic decides that a head has become redundant (docs/algorithm.md §4).</summary>
public enum PruneStatistic
{
    /// <summary>Never prune.</summary>
    None,
    /// <summary>G_h = ‖C M_a,h‖_F below φ_g [ref-code].</summary>
    Reference,
    /// <summary>The head's energy along the layer's minor direction, |u−ᵀ sym(C M_a,h) u−|, below φ_g [paper: MCA-based
    /// pruning; the exact statistic is not public, this reading is inferred].</summary>
    MinorDirection,
    /// <summary>
    /// Leave-one-out sufficiency [inferred]: s_h = λmax(A_res without head h) / θ_w(without head h), where "without h"
    /// removes M_a,h from the motor and h's captured direction (its Q column, if it owns one) from the basis, and θ_w is
    /// re-derived from the reduced operator as the controller would after the prune. The head is redundant when
    /// s_h ≤ <see cref="ControllerOptions.LeaveOneOutRatio"/>: without it the controller would not grow a head back, so
    /// the layer stays sufficient by the method's own growth criterion. Uses <see cref="ControllerOptions.LeaveOneOutWindow"/>
    /// and <see cref="ControllerOptions.LeaveOneOutAgeGuard"/> instead of the φ_g window. A layer's last head scores +∞.
    /// </summary>
    LeaveOneOut,
    /// <summary>Loss-aware: the head whose masking raises the probe loss least is removed if that increase is not useful
    /// (<see cref="MaskedLossPruneRule"/>, settings in <see cref="ControllerOptions.LossAware"/>) [ours].</summary>
    MaskedLoss,
}

/// <summary>What decides that a layer gets one more head (docs/algorithm.md §4, §8).</summary>
public enum GrowthSignal
{
    /// <summary>Directional energy: λmax of the residual operator above θ_w (<see cref="EnergyRule"/>) [paper].</summary>
    Energy,
    /// <summary>Loss plateau, then a trial head kept only if masking it costs loss (<see cref="LossPlateauGrowthRule"/>) [ours].</summary>
    LossPlateau,
}

/// <summary>What θ_w, φ_w and φ_g are fractions of (docs/algorithm.md §4).</summary>
public enum ThresholdMode
{
    /// <summary>Fixed after calibration: θ_w = 0.1·Γ(0), Γ(0) the median ‖A_res‖_F of the first calls [paper, ref-code].
    /// As training grows the weights the operator grows with them, so a fixed θ_w is exceeded until most directions
    /// are captured: measured with <c>samples/Incrt.Synthetic --k 4 --seeds 1 --noise 0 --thresholds calibrated</c>
    /// (d = 64) the layer grew to 47 heads (46 of 64 directions in Q), against 17 with <see cref="Relative"/>.</summary>
    Calibrated,
    /// <summary>Re-derived at every call from the current unprojected operator: θ_w = 0.1·‖sym(C M_a)‖_F(t), so growth
    /// stops once no uncaptured direction holds more than 10% of the layer's current directional energy. Scale
    /// invariant; the calibrated Γ(0) is still recorded for the head-count predictor [inferred].</summary>
    Relative,
    /// <summary>
    /// Like <see cref="Relative"/>, but the reference energy is only the positive end of the unprojected operator:
    /// θ_w = ThetaRatio·‖A₊‖_F(t), A₊ the positive-eigenvalue part of A = sym(C M_a) (<see cref="ResidualOperator.PositivePartNorm"/>),
    /// φ_w and φ_g derived from θ_w as in Relative. Growth compares λmax of the residual, which only the positive end
    /// feeds, and Q only ever captures u+; with <see cref="Relative"/> a negative end that grows during training raises
    /// θ_w without giving growth anything to capture [inferred]. Measured against Relative (docs/algorithm.md §4, one
    /// run each): more heads everywhere (SARS-CoV-2 voc5 seeds 1–3: 14/15/13 vs 9/12/10 at equal macro-F1; synthetic
    /// K = 1, 4, 16: 24/25/26 vs 17/17/21; SST-2: the 32-head cap vs 26, dev 80.28% vs 80.85%) and a GrowthReplay
    /// prediction that is closer (SARS mean |error| 50% vs 81%, synthetic 1.3% vs 7.1%) but on SARS only because the
    /// replay then grows at every call the dwell time allows. Opt-in; not the default.
    /// </summary>
    RelativePositive,
}

/// <summary>How the controller initialises a head it grows (maps onto <see cref="Attention.HeadInit"/>).</summary>
public enum GrowthInit
{
    /// <summary>Fresh random weights [ref-code].</summary>
    Random,
    /// <summary>Antisymmetric form seeded with the plane (u+, u−) [inferred].</summary>
    EigenSeeded,
    /// <summary>Random weights with a zero output projection [inferred].</summary>
    FunctionPreserving,
    /// <summary>Eigen-seeded and function preserving [inferred].</summary>
    EigenSeededFunctionPreserving,
}

/// <summary>
/// Every setting of <see cref="HeadController"/>, with its origin: [paper] the INCRT paper's abstract and summaries,
/// [ref-code] the author's public code, [inferred] this library's choice, [ours] this library's loss-aware rules
/// (docs/algorithm.md §4, §8). <c>new ControllerOptions()</c> is the directional-energy rule
/// (<see cref="ControllerPresets.Energy"/>, so checkpoints written before issue 15 resume unchanged); the recommended
/// default is <see cref="ControllerPresets.Default"/>, which <see cref="HeadController"/> uses when given no options.
/// </summary>
public sealed record ControllerOptions
{
    /// <summary>Optimizer steps between controller calls. Default 5 [ref-code].</summary>
    public int Interval { get; init; } = 5;

    /// <summary>
    /// Estimator mode and step sizes. Default <see cref="EstimatorMode.Exact"/> (eigh of A_res) [inferred]: the paper's
    /// online Oja/MCA rule with η+ = 1/(10d) and one update per call moves u+ by O(η+·Δ+) per call, and with a
    /// batch-mean covariance Δ+ is O(0.1–1), so u+ needs thousands of calls to align. Measured with
    /// <c>samples/Incrt.Synthetic --k 4 --seeds 1 --noise 0 --estimator online</c> (d = 64): the layer never grew
    /// (online λmax/θ_w = 0.36 at the end), where exact mode grew to 17 heads. The gaps come from eigh in both modes,
    /// so exact mode costs no extra decomposition. Select Online (and raise Iterations or η) to follow the paper.
    /// </summary>
    public EstimatorOptions Estimator { get; init; } = new() { Mode = EstimatorMode.Exact };

    /// <summary>Where X comes from. Default <see cref="CovarianceSource.BatchMean"/> [inferred].</summary>
    public CovarianceSource Covariance { get; init; } = CovarianceSource.BatchMean;

    /// <summary>Calls whose ‖A_res‖_F are collected for Γ(0) (median) before any decision. Default 16 [ref-code].</summary>
    public int CalibrationCalls { get; init; } = EnergyCalibration.DefaultBatches;

    /// <summary>What the thresholds are fractions of. Default <see cref="ThresholdMode.Relative"/> [inferred];
    /// <see cref="ThresholdMode.RelativePositive"/> is the opt-in variant that ignores the operator's negative end.</summary>
    public ThresholdMode Thresholds { get; init; } = ThresholdMode.Relative;

    /// <summary>θ_w as a fraction of the reference energy. Default 0.1 [ref-code].</summary>
    public double ThetaRatio { get; init; } = EnergyThresholds.ThetaRatio;

    /// <summary>Explicit θ_w (overrides every ratio and the threshold mode).</summary>
    public double? ThetaW { get; init; }

    /// <summary>Explicit φ_w (overrides 0.5 θ_w).</summary>
    public double? PhiW { get; init; }

    /// <summary>Explicit φ_g (overrides 0.01 θ_w).</summary>
    public double? PhiG { get; init; }

    /// <summary>κ_T of the dwell time. Default 2 [ref-code].</summary>
    public double KappaT { get; init; } = 2.0;

    /// <summary>ε of the dwell time (target Oja accuracy). Default 0.05 [ref-code].</summary>
    public double Epsilon { get; init; } = 0.05;

    /// <summary>Dwell time used when Δ+ &lt; 1e-8. Default 10000 calls [ref-code].</summary>
    public int DwellWithoutGap { get; init; } = 10_000;

    /// <summary>
    /// Upper bound on the dwell time in calls, or null for the raw formula. The formula scales as 1/(η+ Δ+²), so with a
    /// batch-mean covariance (entries O(1) instead of O(n)) it can reach millions of calls and growth never happens
    /// within a run. Default 5 calls (25 steps at the default interval) [inferred].
    /// </summary>
    public int? MaxDwellCalls { get; init; } = 5;

    /// <summary>What decides growth. Default <see cref="GrowthSignal.Energy"/>; see <see cref="ControllerPresets"/> for the
    /// measured choice.</summary>
    public GrowthSignal Growth { get; init; } = GrowthSignal.Energy;

    /// <summary>Settings of the loss-aware rules (<see cref="GrowthSignal.LossPlateau"/>, <see cref="PruneStatistic.MaskedLoss"/>).</summary>
    public LossAwareOptions LossAware { get; init; } = new();

    /// <summary>Prune statistic. Default <see cref="PruneStatistic.Reference"/>.</summary>
    public PruneStatistic Prune { get; init; } = PruneStatistic.Reference;

    /// <summary>Consecutive calls a head's statistic must stay below φ_g before it is pruned. Default 100 [ref-code].</summary>
    public int PruneWindow { get; init; } = 100;

    /// <summary>Calls a head must have lived before it can be pruned. Default 100 [inferred; the reference's ≈1.5M-call
    /// guard means it never prunes].</summary>
    public int PruneAgeGuard { get; init; } = 100;

    /// <summary>
    /// With <see cref="PruneStatistic.LeaveOneOut"/>: a head is redundant when λmax of the residual operator without it
    /// is at most this fraction of the θ_w that operator would get. Default 1.0 [inferred]: exactly the growth
    /// criterion, so a head is pruned only if, on every call of its window, the layer without it would not have grown a
    /// head back. Measured on <c>samples/Incrt.SarsCov2</c> voc5 seeds 1–3, 600 steps (docs/algorithm.md §4): 1.0 pruned
    /// 2, 3 and 3 heads (macro-F1 equal on seeds 1 and 3, −0.030 on seed 2), 0.8 none. On the synthetic task 1.0
    /// churns instead (6 prunes, each undone by a later growth) where 0.8 never prunes.
    /// </summary>
    public double LeaveOneOutRatio { get; init; } = 1.0;

    /// <summary>
    /// With <see cref="PruneStatistic.LeaveOneOut"/>: consecutive calls a head must stay redundant before it is pruned;
    /// any grow or prune in the layer restarts every head's count, because the evidence was about the old head set.
    /// Default 10 calls (50 steps at the default interval) [inferred]: two dwell times (<see cref="MaxDwellCalls"/> = 5), so
    /// one batch's reading never decides, yet short enough to act within a 600-step run (120 calls, 16 of them
    /// calibration), where the φ_g window of 100 calls plus its age guard can never complete.
    /// </summary>
    public int LeaveOneOutWindow { get; init; } = 10;

    /// <summary>
    /// With <see cref="PruneStatistic.LeaveOneOut"/>: calls a head must have lived before it can be pruned. Default 20
    /// calls (100 steps) [inferred]: a grown head first gets twice the prune window to train into the direction it was
    /// seeded with, so the rule judges what the head learned rather than its initialisation.
    /// </summary>
    public int LeaveOneOutAgeGuard { get; init; } = 20;

    /// <summary>
    /// With <see cref="PruneStatistic.LeaveOneOut"/>: how every head's λmax without it is read. Default
    /// <see cref="Control.LeaveOneOutSolver.Lanczos"/>: through the heads' factors by one batched Lanczos run, certified
    /// within 1e-7·‖F‖_F of the dense oracle (an uncertified head falls back to it), and a head whose λmax without it is
    /// already above the redundancy boundary decided after one or two products; <see cref="Control.LeaveOneOutSolver.Dense"/>:
    /// H eigvalsh of d×d, the oracle, 11–42× a plain call on an H200 at d = 512 (docs/benchmarks.md).
    /// </summary>
    public LeaveOneOutSolver LeaveOneOutSolver { get; init; } = LeaveOneOutSolver.Lanczos;

    /// <summary>The window of the selected prune statistic: <see cref="LeaveOneOutWindow"/> or <see cref="PruneWindow"/>.</summary>
    internal int EffectivePruneWindow => Prune == PruneStatistic.LeaveOneOut ? LeaveOneOutWindow : PruneWindow;

    /// <summary>The age guard of the selected prune statistic: <see cref="LeaveOneOutAgeGuard"/> or <see cref="PruneAgeGuard"/>.</summary>
    internal int EffectivePruneAgeGuard => Prune == PruneStatistic.LeaveOneOut ? LeaveOneOutAgeGuard : PruneAgeGuard;

    /// <summary>Initialisation of grown heads. Default <see cref="GrowthInit.EigenSeeded"/> [inferred].</summary>
    public GrowthInit NewHead { get; init; } = GrowthInit.EigenSeeded;

    /// <summary>Optimizer state of grown heads. Default zero [ref-code].</summary>
    public NewHeadMoments Moments { get; init; } = NewHeadMoments.Zero;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Estimator, nameof(Estimator));
        ArgumentNullException.ThrowIfNull(LossAware, nameof(LossAware));
        LossAware.Validate();
        if (!Enum.IsDefined(Growth)) throw new ArgumentOutOfRangeException(nameof(Growth), Growth, "Unknown growth signal.");
        if (!Enum.IsDefined(Prune)) throw new ArgumentOutOfRangeException(nameof(Prune), Prune, "Unknown prune statistic.");
        Positive(Interval, nameof(Interval));
        Positive(CalibrationCalls, nameof(CalibrationCalls));
        PositiveFinite(ThetaW, nameof(ThetaW));
        PositiveFinite(PhiW, nameof(PhiW));
        PositiveFinite(PhiG, nameof(PhiG));
        PositiveFinite(KappaT, nameof(KappaT));
        PositiveFinite(ThetaRatio, nameof(ThetaRatio));
        if (!(Epsilon > 0 && Epsilon < 1)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be in (0, 1).");
        Positive(DwellWithoutGap, nameof(DwellWithoutGap));
        if (MaxDwellCalls is < 0) throw new ArgumentOutOfRangeException(nameof(MaxDwellCalls), MaxDwellCalls, "MaxDwellCalls must be ≥ 0 or null.");
        Positive(PruneWindow, nameof(PruneWindow));
        if (PruneAgeGuard < 0) throw new ArgumentOutOfRangeException(nameof(PruneAgeGuard), PruneAgeGuard, "PruneAgeGuard must be ≥ 0.");
        PositiveFinite(LeaveOneOutRatio, nameof(LeaveOneOutRatio));
        Positive(LeaveOneOutWindow, nameof(LeaveOneOutWindow));
        if (LeaveOneOutAgeGuard < 0)
            throw new ArgumentOutOfRangeException(nameof(LeaveOneOutAgeGuard), LeaveOneOutAgeGuard, "LeaveOneOutAgeGuard must be ≥ 0.");
    }

    private static void Positive(int value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }

    private static void PositiveFinite(double? value, string name)
    {
        if (value is { } v && !(v > 0 && double.IsFinite(v)))
            throw new ArgumentOutOfRangeException(name, v, $"{name} must be finite and positive.");
    }
}
