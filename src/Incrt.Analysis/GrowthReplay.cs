using Incrt.Control;
using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Theory;

/// <summary>What a replay of the controller's growth rule on a frozen (untrained) operator found.</summary>
/// <param name="Heads">Head count when the rule stopped (initial heads + growths).</param>
/// <param name="Growths">Growth events replayed.</param>
/// <param name="StoppedBy">Why the replay stopped: "energy" (λmax ≤ θ_w or λmin ≥ φ_w), "max-heads" or "basis-full".</param>
/// <param name="EnergyRatios">λmax/θ_w at every replayed decision, in order (the last one is the stopping decision).</param>
public sealed record GrowthReplayResult(int Heads, int Growths, string StoppedBy, IReadOnlyList<double> EnergyRatios);

/// <summary>
/// Replays the controller's growth decision (docs/algorithm.md §4, steps 1, 3 and 5) on a fixed covariance without
/// training: at each decision A = sym(C·M_a), θ_w from the options, A_res = P⊥AP⊥, grow while λmax(A_res) &gt; θ_w and
/// λmin &lt; φ_w, each growth appending u+ to Q (one direction per head, as the controller does). Used by
/// <see cref="HeadCountPredictor"/> (docs/theory.md §7).
/// </summary>
/// <remarks>
/// Two variants. <see cref="Static"/> keeps the operator fixed (only Q grows): the count is then 1 + the number of
/// positive eigenvalues of A above θ_w — idea "capture the significant directions of the initial operator".
/// <see cref="WithNewHeads"/> also adds each grown head's bilinear form to the motor, drawn exactly as
/// <c>GrowableMultiHeadAttention.AddHead</c> draws it (same generator state, same draw order, same eigen seed): a new
/// head is mostly a fresh random form whose antisymmetric part has rank 2·d_k, so it raises both the residual energy
/// and the relative threshold; training is the only thing the replay leaves out.
/// </remarks>
public static class GrowthReplay
{
    /// <summary>
    /// The rule on a fixed symmetric operator: Q grows by the current top residual eigenvector while λmax(P⊥AP⊥) &gt;
    /// θ_w and λmin &lt; φ_w, with θ_w = <paramref name="thetaRatio"/>·‖A‖_F (or ·‖A₊‖_F, <paramref name="positivePart"/>)
    /// unless <paramref name="thetaW"/> is given (φ_w = 0.5·θ_w). Stops at <paramref name="maxHeads"/> or when Q leaves
    /// fewer than 3 complement dimensions.
    /// </summary>
    /// <param name="symmetricOperator">A, (d, d), symmetric.</param>
    /// <param name="initialHeads">Heads before the first decision.</param>
    /// <param name="maxHeads">Head cap.</param>
    /// <param name="thetaRatio">θ_w / ‖A‖_F (relative mode).</param>
    /// <param name="thetaW">Fixed θ_w (calibrated mode or explicit), overriding the ratio.</param>
    /// <param name="positivePart">θ_w relative to ‖A₊‖_F, the positive-eigenvalue part of A
    /// (<see cref="ThresholdMode.RelativePositive"/>), instead of ‖A‖_F.</param>
    public static GrowthReplayResult Static(Tensor symmetricOperator, int initialHeads, int maxHeads,
        double thetaRatio = EnergyThresholds.ThetaRatio, double? thetaW = null, bool positivePart = false)
    {
        ArgumentNullException.ThrowIfNull(symmetricOperator);
        EnergyGuards.RequireSquare(symmetricOperator, nameof(symmetricOperator));
        using var scope = NewDisposeScope();
        var a = symmetricOperator.detach().to(ScalarType.Float64).cpu();
        return Run((int)a.shape[0], initialHeads, maxHeads, thetaRatio, thetaW, null, positivePart, 1, int.MaxValue, _ => 1, _ => a, (_, _) => { });
    }

    /// <summary>
    /// The rule with every grown head added to the motor: M_a = antisym(Σ_h W_Q,h W_K,hᵀ) over the initial heads
    /// (<paramref name="wq"/>, <paramref name="wk"/>) and the replayed ones, A = sym(C·M_a) at every decision.
    /// </summary>
    /// <param name="covariances">C, (d, d) each; decision i uses covariance i mod n (one element: the mean over the
    /// calibration batches; several: one batch per decision, as the controller sees them). The replay stops once n
    /// consecutive decisions did not grow (with frozen weights nothing would change after that).</param>
    /// <param name="wq">Initial W_Q, (H, d, d_k).</param>
    /// <param name="wk">Initial W_K, (H, d, d_k).</param>
    /// <param name="generator">Draws the new heads; pass a copy of the layer's head generator to draw exactly the
    /// weights the real layer will draw. Advanced by the replay.</param>
    /// <param name="init">How grown heads are initialised (the controller's <see cref="ControllerOptions.NewHead"/>).</param>
    /// <param name="maxHeads">Head cap.</param>
    /// <param name="thetaRatio">θ_w / ‖A‖_F (relative mode).</param>
    /// <param name="thetaW">Fixed θ_w (calibrated mode or explicit), overriding the ratio.</param>
    /// <param name="schedule">Null: cycle through the covariances until a full quiet pass. Otherwise the covariances
    /// are the controller's decision calls in order (one each, then stop: "budget"), and a growth also needs the
    /// controller's dwell time since the previous one (<see cref="GrowthGate.DwellCalls"/> with these options).</param>
    /// <param name="positivePart">θ_w relative to ‖A₊‖_F (<see cref="ThresholdMode.RelativePositive"/>) instead of ‖A‖_F.</param>
    public static GrowthReplayResult WithNewHeads(IReadOnlyList<Tensor> covariances, Tensor wq, Tensor wk, Generator generator, GrowthInit init,
        int maxHeads, double thetaRatio = EnergyThresholds.ThetaRatio, double? thetaW = null, ControllerOptions? schedule = null,
        bool positivePart = false)
    {
        ArgumentNullException.ThrowIfNull(covariances);
        if (covariances.Count == 0) throw new ArgumentException("At least one covariance.", nameof(covariances));
        var covariance = covariances[0];
        ArgumentNullException.ThrowIfNull(covariance);
        ArgumentNullException.ThrowIfNull(wq);
        ArgumentNullException.ThrowIfNull(wk);
        ArgumentNullException.ThrowIfNull(generator);
        EnergyGuards.RequireSquare(covariance, nameof(covariance));
        long d = covariance.shape[0];
        if (wq.dim() != 3 || wq.shape[1] != d || !wq.shape.SequenceEqual(wk.shape))
            throw new ArgumentException($"wq and wk must both have shape (H, {d}, d_k).", nameof(wq));
        long dk = wq.shape[2];
        using var scope = NewDisposeScope();
        var cs = covariances.Select(x => x.detach().to(ScalarType.Float64).cpu()).ToArray();
        // M = Σ_h W_Q,h W_K,hᵀ, kept as a running sum so each replayed head costs one d×d_k×d product. It is swapped
        // out of the replay step's dispose scope at every growth and freed here.
        var m = wq.detach().to(ScalarType.Float64).cpu().matmul(wk.detach().to(ScalarType.Float64).cpu().transpose(1, 2)).sum(dim: 0).DetachFromDisposeScope();
        Tensor Operator(int i) => ResidualOperator.Build(cs[i % cs.Length], (m - m.t()) * 0.5);
        void Grow(Tensor uPlus, Tensor uMinus)
        {
            var (q, k) = DrawHead(generator, d, dk, init, uPlus, uMinus);
            var next = (m + q.matmul(k.t())).DetachFromDisposeScope();
            m.Dispose();
            m = next;
        }
        double etaPlus = schedule?.Estimator.EtaPlus ?? OjaMcaTracker.DefaultEtaPlus((int)d);
        Func<double, long> dwell = schedule is null ? _ => 1
            : gap => GrowthGate.DwellCalls(gap, etaPlus, schedule.KappaT, schedule.Epsilon, schedule.DwellWithoutGap, schedule.MaxDwellCalls);
        try
        {
            return schedule is null
                ? Run((int)d, (int)wq.shape[0], maxHeads, thetaRatio, thetaW, null, positivePart, cs.Length, int.MaxValue, dwell, Operator, Grow)
                : Run((int)d, (int)wq.shape[0], maxHeads, thetaRatio, thetaW, schedule.PhiW, positivePart, int.MaxValue, cs.Length, dwell, Operator, Grow);
        }
        finally { m.Dispose(); }
    }

    /// <summary>
    /// One new head's (W_Q, W_K), (d, d_k) each, drawn in <c>GrowableMultiHeadAttention.AddHead</c>'s order: the
    /// (3, d, d_k) in-projection ~ N(0, 1/d), then (unless the output is zeroed) the (d_k, d) output projection, then
    /// the eigen seed q₀ = u, k₀ = v, q₁ = −v, k₁ = u (a = 1) with v = u− orthogonalised against u.
    /// </summary>
    internal static (Tensor Wq, Tensor Wk) DrawHead(Generator generator, long d, long dk, GrowthInit init, Tensor uPlus, Tensor uMinus)
    {
        var inProj = randn(new[] { 1, 3, d, dk }, ScalarType.Float64, CPU, generator: generator).div_(Math.Sqrt(d));
        bool zeroOutput = init is GrowthInit.FunctionPreserving or GrowthInit.EigenSeededFunctionPreserving;
        if (!zeroOutput) randn(new[] { 1, dk, d }, ScalarType.Float64, CPU, generator: generator).Dispose(); // keeps the draw order
        var wq = inProj.select(0, 0).select(0, 0).clone();
        var wk = inProj.select(0, 0).select(0, 1).clone();
        if (init is GrowthInit.EigenSeeded or GrowthInit.EigenSeededFunctionPreserving && dk >= 2)
        {
            var u = uPlus / uPlus.norm();
            var v = uMinus - u * u.dot(uMinus);
            double vNorm = v.norm().item<double>();
            // AddHead falls back to a random partner here; a replay reaching it is already off the real path.
            if (vNorm > 1e-8)
            {
                v = v / vNorm;
                wq.select(1, 0).copy_(u);
                wk.select(1, 0).copy_(v);
                wq.select(1, 1).copy_(-v);
                wk.select(1, 1).copy_(u);
            }
        }
        return (wq, wk);
    }

    /// <summary>The replay loop. Decision i uses <paramref name="operatorAt"/>(i). A growth needs the energy condition and
    /// at least <paramref name="dwell"/>(Δ+) decisions since the previous growth (1 = every decision, as after
    /// calibration with no dwell). Stops after <paramref name="patience"/> consecutive decisions without growth, after
    /// <paramref name="decisions"/> decisions ("budget"), or at the head/basis caps.</summary>
    private static GrowthReplayResult Run(int d, int initialHeads, int maxHeads, double thetaRatio, double? thetaW, double? phiWExplicit, bool positivePart,
        int patience, int decisions, Func<double, long> dwell, Func<int, Tensor> operatorAt, Action<Tensor, Tensor> grow)
    {
        if (initialHeads < 1) throw new ArgumentOutOfRangeException(nameof(initialHeads), initialHeads, "At least one initial head.");
        if (maxHeads < initialHeads) throw new ArgumentOutOfRangeException(nameof(maxHeads), maxHeads, "maxHeads must be ≥ the initial heads.");
        if (!(thetaRatio > 0 && double.IsFinite(thetaRatio))) throw new ArgumentOutOfRangeException(nameof(thetaRatio), thetaRatio, "thetaRatio must be finite and positive.");
        var ratios = new List<double>();
        using var basis = new CapturedBasis(d, ScalarType.Float64);
        int heads = initialHeads, quiet = 0;   // quiet: consecutive decisions without growth
        long sinceGrowth = 0, wait = 0;        // as the controller's _callsSinceGrowth and _lastDwell
        for (int decision = 0; decision < decisions; decision++)
        {
            using var step = NewDisposeScope();
            var full = operatorAt(decision);
            // The controller's relative rule, ‖A‖_F or ‖A₊‖_F (ThresholdReference), with its ε floor.
            double theta = thetaW ?? thetaRatio * Math.Max(
                ThresholdReference.Energy(full, positivePart ? ThresholdMode.RelativePositive : ThresholdMode.Relative), double.Epsilon);
            double phiW = phiWExplicit ?? EnergyThresholds.PhiWRatio * theta;   // an explicit φ_w wins, as in the controller
            using var spectrum = ExactSpectrum.Compute(ResidualOperator.Project(full, basis));
            ratios.Add(spectrum.LambdaMax / theta);
            sinceGrowth++;
            wait = dwell(spectrum.GapPlus);
            bool energy = GrowthGate.EnergyAboveThreshold(spectrum.LambdaMax, spectrum.LambdaMin, theta, phiW);
            if (sinceGrowth < wait || !energy)
            {
                // With frozen weights nothing changes until a growth, so once every operator was seen quietly the replay is final.
                if (!energy && ++quiet >= patience) return new GrowthReplayResult(heads, heads - initialHeads, "energy", ratios);
                continue;
            }
            quiet = 0;
            if (heads >= maxHeads) return new GrowthReplayResult(heads, heads - initialHeads, "max-heads", ratios);
            if (basis.Count >= d - 2) return new GrowthReplayResult(heads, heads - initialHeads, "basis-full", ratios);
            var uPlus = spectrum.UPlus();
            grow(uPlus, spectrum.UMinus());
            try { basis.Append(uPlus); }
            catch (ArgumentException) { /* u+ already in span(Q): the controller keeps the head and Q unchanged too */ }
            heads++;
            sinceGrowth = 0;
        }
        return new GrowthReplayResult(heads, heads - initialHeads, "budget", ratios);
    }
}
