using Incrt.Control;
using Incrt.Training;
using Incrt.Energy;
using Incrt.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Theory;

/// <summary>Which spectral-complexity measure κ_T² the head-count prediction uses (docs/theory.md §2).</summary>
public enum ComplexityMeasure
{
    /// <summary>
    /// Effective rank (participation ratio (Σσ²)²/Σσ⁴) of the task operator T = sym(C̄·S_task), where S_task is the
    /// label-contrast directed-order statistic of the data (see <see cref="HeadCountPredictor"/>). A property of the
    /// task and the initial embedding only.
    /// </summary>
    TaskOperatorRank,

    /// <summary>
    /// Effective rank of the initial model's own operator A(0) = sym(C̄·M_a(0)) (random initial head). A property of the
    /// initialisation, not of the task.
    /// </summary>
    InitialOperatorRank,

    /// <summary>Effective rank of the token covariance C̄ (task-agnostic baseline).</summary>
    CovarianceRank,

    /// <summary>
    /// Not an effective rank and no fitted constant: K* is the head count at which the controller's own growth rule stops
    /// when replayed on the initial model without training (<see cref="GrowthReplay.WithNewHeads"/>: mean calibration
    /// covariance, the layer's initial heads, every grown head drawn as the layer would draw it). docs/theory.md §7.
    /// </summary>
    GrowthReplay,
}

/// <summary>The prediction of Theorem 2 and every ingredient it was computed from (docs/theory.md).</summary>
/// <param name="PredictedHeads">K*: the head count the layer is predicted to end with (initial heads + growths).</param>
/// <param name="Growths">k: predicted number of growth events, the smallest k with Γ(0)(1 − c/κ_T²)^k ≤ θ_w.</param>
/// <param name="Gamma0">Γ(0): median over the calibration batches of ‖A_res‖_F with the initial heads and empty Q.</param>
/// <param name="ThetaW">θ_w used for the prediction (explicit <see cref="ControllerOptions.ThetaW"/>, else
/// <see cref="ControllerOptions.ThetaRatio"/>·Γ(0); see <see cref="HeadCountPredictor"/> for the relative mode).</param>
/// <param name="LogRatio">ln(Γ(0)/θ_w).</param>
/// <param name="Measure">The complexity measure behind <see cref="KappaSquared"/>.</param>
/// <param name="KappaSquared">κ_T² of the chosen measure.</param>
/// <param name="Constant">c of the greedy-pursuit rate (Θ = 1/c in K* ≈ Θ·κ_T²·ln(Γ(0)/θ_w)).</param>
/// <param name="AsymptoticHeads">initial heads + κ_T²·ln(Γ(0)/θ_w)/c, the first-order form of the same bound.</param>
/// <param name="TaskOperatorRank">κ² by <see cref="ComplexityMeasure.TaskOperatorRank"/>.</param>
/// <param name="InitialOperatorRank">κ² by <see cref="ComplexityMeasure.InitialOperatorRank"/>.</param>
/// <param name="CovarianceRank">κ² by <see cref="ComplexityMeasure.CovarianceRank"/>.</param>
/// <param name="TaskSignificantCount">Number of singular values of the task operator above
/// ThetaRatio·‖T‖_F (directions a static relative threshold would ask for).</param>
/// <param name="InitialSignificantCount">Number of positive eigenvalues of A(0) above θ_w/Γ(0)·‖A(0)‖_F.</param>
/// <param name="TaskSingularValues">Singular values of the task operator, descending (normalised to ‖·‖₂ = 1).</param>
/// <param name="InitialHeads">Heads of the layer when the prediction was made.</param>
/// <param name="Batches">Calibration batches used.</param>
/// <param name="ReplayHeads">The K* of <see cref="ComplexityMeasure.GrowthReplay"/>: the controller's growth rule replayed
/// on the initial weights with every grown head added to the motor (<see cref="GrowthReplay.WithNewHeads"/>), over the
/// controller's decision schedule when one was given (same batches, dwell and number of calls), else over the
/// calibration batches (= <see cref="ReplayCalibrationHeads"/>).</param>
/// <param name="ReplayCalibrationHeads">The replay cycling through the calibration batches' covariances until a full
/// pass grows nothing (no dwell, no call budget).</param>
/// <param name="StaticReplayHeads">The rule on the fixed initial operator A(0) = sym(C̄·M_a(0)) (<see cref="GrowthReplay.Static"/>:
/// 1 + the positive eigenvalues of A(0) above θ_w).</param>
/// <param name="ReplayStoppedBy">Why the replay behind <see cref="ReplayHeads"/> stopped ("energy", "budget", "max-heads",
/// "basis-full").</param>
/// <param name="ReplayDecisions">Decision calls in the schedule (0 when none was given).</param>
public sealed record HeadCountPrediction(
    int PredictedHeads, int Growths, double Gamma0, double ThetaW, double LogRatio, ComplexityMeasure Measure,
    double KappaSquared, double Constant, double AsymptoticHeads,
    double TaskOperatorRank, double InitialOperatorRank, double CovarianceRank,
    int TaskSignificantCount, int InitialSignificantCount, IReadOnlyList<double> TaskSingularValues,
    int InitialHeads, int Batches, int ReplayHeads = 0, int ReplayCalibrationHeads = 0, int StaticReplayHeads = 0,
    string ReplayStoppedBy = "", int ReplayDecisions = 0)
{
    /// <summary>κ_T = √κ_T².</summary>
    public double KappaT => Math.Sqrt(KappaSquared);

    /// <summary>κ_T² of <paramref name="measure"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="ComplexityMeasure.GrowthReplay"/>, which has no κ².</exception>
    public double KappaSquaredOf(ComplexityMeasure measure) => measure switch
    {
        ComplexityMeasure.TaskOperatorRank => TaskOperatorRank,
        ComplexityMeasure.InitialOperatorRank => InitialOperatorRank,
        ComplexityMeasure.CovarianceRank => CovarianceRank,
        _ => throw new ArgumentException($"{measure} has no κ².", nameof(measure)),
    };

    /// <summary>K* recomputed with another measure and constant (same Γ(0), θ_w and initial heads);
    /// <see cref="ComplexityMeasure.GrowthReplay"/> ignores <paramref name="constant"/> and returns <see cref="ReplayHeads"/>.</summary>
    public int PredictWith(ComplexityMeasure measure, double constant) => measure == ComplexityMeasure.GrowthReplay
        ? ReplayHeads
        : InitialHeads + HeadCountPredictor.GreedyGrowths(Gamma0, ThetaW, KappaSquaredOf(measure), constant);
}

/// <summary>
/// Predicts, before training, how many heads the INCRT controller will grow in a layer (Theorem 2 of the paper,
/// K* ≈ Θ(κ_T²·log(Γ(0)/θ_w)), read as a greedy-pursuit bound; docs/theory.md).
/// </summary>
/// <remarks>
/// <para><b>Γ(0).</b> The model runs (eval mode, no grad) on the first <see cref="ControllerOptions.CalibrationCalls"/>
/// batches; for each, C is the batch-mean token covariance of the layer's input (<see cref="ResidualOperator.Covariance"/>),
/// M_a(0) the layer's initial motor, and ‖sym(C·M_a(0))‖_F is recorded; Γ(0) is their median, as in the controller.</para>
/// <para><b>θ_w.</b> An explicit <see cref="ControllerOptions.ThetaW"/> is used as is. Otherwise θ_w = ThetaRatio·Γ(0).
/// In <see cref="ThresholdMode.Calibrated"/> mode that is exactly the controller's fixed threshold. In
/// <see cref="ThresholdMode.Relative"/> mode the controller's θ_w(t) = ThetaRatio·‖sym(C M_a(t))‖_F moves with the
/// weights; at t = 0 (Q empty) it coincides with ThetaRatio·Γ(0), and since the stopping rule compares λmax with a
/// fixed fraction of the current energy, the ratio the bound needs is Γ/θ_w = 1/ThetaRatio at every time. So for
/// prediction θ_w means "the threshold at initialisation" and ln(Γ(0)/θ_w) = ln(1/ThetaRatio) in both modes. The bound
/// treats <see cref="ThresholdMode.RelativePositive"/> like Relative; the growth replays take θ_w from ‖A₊‖_F in that
/// mode, as the controller does.</para>
/// <para><b>κ_T.</b> No source defines it. Three first-principles candidates are computed (all returned):
/// (1) the task operator. For a sequence with layer inputs x_1..x_n let O = (1/n²)·Σ_{p&lt;q}(x_p x_qᵀ − x_q x_pᵀ), the
/// antisymmetric "what comes before what" statistic (an element of so(d), like M_a). Its label contrast
/// S_c = E[(1[y=c] − π_c)·O] is the directed structure that predicts class c; a motor aligned with it gives the
/// controller's operator T_c = sym(C̄·S_c). κ_T² is the effective rank (participation ratio (Σσ²)²/Σσ⁴) of the
/// singular values of [T_1 … T_C]: for K planted, equally strong, non-overlapping directed relations it is ≈ 2K.
/// (2) the same effective rank of the initial operator A(0) = sym(C̄·M_a(0)). (3) of the covariance C̄.
/// Effective rank is the right "condition-number-like" quantity for the greedy bound: if the energy is spread evenly over
/// r directions, capturing one direction per growth removes ≈ 1/r of it, i.e. Γ(k) ≈ Γ(0)(1 − c/κ²)^k with κ² = r.</para>
/// <para><b>K*.</b> initial heads + the smallest k with Γ(0)(1 − c/κ_T²)^k ≤ θ_w (1 growth when c ≥ κ_T², 0 when Γ(0) ≤ θ_w).
/// The measure and c are frozen in <see cref="DefaultMeasure"/> and <see cref="DefaultConstant"/>; see there how they
/// were fitted.</para>
/// </remarks>
public static class HeadCountPredictor
{
    /// <summary>
    /// The complexity measure used by default: <see cref="ComplexityMeasure.InitialOperatorRank"/>. On the fitting set it
    /// tied with the task-operator rank (4.8% mean error each, covariance 7.1%); it was preferred because with the relative
    /// threshold the stopping point is set by the spectrum of the model's own operator, and the measured task-operator
    /// rank did not follow the planted K at initialisation anyway (docs/theory.md §3).
    /// </summary>
    public const ComplexityMeasure DefaultMeasure = ComplexityMeasure.InitialOperatorRank;

    /// <summary>
    /// The greedy-pursuit constant c (Θ = 1/c) of <see cref="DefaultMeasure"/>, frozen: <c>FittedConstant(DefaultMeasure)</c>.
    /// </summary>
    public const double DefaultConstant = 1.37;

    /// <summary>
    /// The constant c fitted for each measure, frozen. Fitted ONLY on the synthetic family, on runs separate from the
    /// evaluation sweep: <c>dotnet run -c Release --project samples/Incrt.Synthetic -- --fit --threads 1</c>
    /// (seed 100, K ∈ {1, 4, 16}, label noise 0, d_model 64, head_dim 16, 4000 examples, 8 epochs × 125 steps, relative
    /// θ_w, MaxDwellCalls 2; observed 19, 21, 17 heads). Each c minimises the mean |K* − observed|/observed over those
    /// three runs on a grid of 0.01 steps in [0.01, 3]: task 0.93 (29.2%; refitted 2026-11-29 after the class-mean bug fix,
    /// was 0.69), initial 1.37 (4.8%), covariance 1.73 (7.1%).
    /// The sweep (seeds 1–3) never feeds back into these values; SST-2 and SARS-CoV-2 predictions must use them unchanged.
    /// </summary>
    public static double FittedConstant(ComplexityMeasure measure) => measure switch
    {
        ComplexityMeasure.TaskOperatorRank => 0.93,
        ComplexityMeasure.InitialOperatorRank => 1.37,
        ComplexityMeasure.CovarianceRank => 1.73,
        ComplexityMeasure.GrowthReplay => 1.0, // unused: the replay has no constant (kept so every measure has a value)
        _ => throw new ArgumentOutOfRangeException(nameof(measure), measure, "Unknown measure."),
    };

    /// <summary>
    /// Computes Γ(0), θ_w, the complexity measures and K* for growable layer <paramref name="layerIndex"/> of
    /// <paramref name="model"/> before training.
    /// </summary>
    /// <param name="model">The untrained classifier (its weights are not changed; its train/eval mode is restored).</param>
    /// <param name="batches">Batches with ids, key-padding masks and labels (labels feed the task operator). The first
    /// <see cref="ControllerOptions.CalibrationCalls"/> are used; they are not disposed.</param>
    /// <param name="options">The controller options the run will use (null for the defaults).</param>
    /// <param name="layerIndex">Which growable layer (default the first).</param>
    /// <param name="measure">Complexity measure (default <see cref="DefaultMeasure"/>).</param>
    /// <param name="constant">c (default <see cref="DefaultConstant"/>).</param>
    /// <param name="schedule">Optional: the training batches of the controller's decision calls after calibration, in
    /// call order (<see cref="DecisionSchedule.Batches"/>); the growth replay then runs over exactly these calls.
    /// Each batch is disposed after use.</param>
    /// <exception cref="ArgumentException">No batches, a label outside [0, classes), a non-finite operator, or a bad
    /// layer index / constant.</exception>
    public static HeadCountPrediction Predict(IncrtClassifier model, IEnumerable<SequenceBatch> batches,
        ControllerOptions? options = null, int layerIndex = 0, ComplexityMeasure measure = DefaultMeasure,
        double constant = DefaultConstant, IEnumerable<SequenceBatch>? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        options ??= new ControllerOptions();
        options.Validate();
        if (layerIndex < 0 || layerIndex >= model.GrowableLayers.Count)
            throw new ArgumentOutOfRangeException(nameof(layerIndex), layerIndex, $"The model has {model.GrowableLayers.Count} growable layer(s).");
        if (!(constant > 0 && double.IsFinite(constant)))
            throw new ArgumentOutOfRangeException(nameof(constant), constant, "constant must be finite and positive.");
        var layer = model.GrowableLayers[layerIndex];
        int classes = model.Options.Classes;
        long d = layer.DModel;

        bool wasTraining = model.training;
        using var inputs = new Attention.LayerInputRecorder(layer);
        var norms = new List<double>();
        var batchCovariances = new List<Tensor>();
        using var scope = NewDisposeScope();
        var covSum = zeros(d, d, ScalarType.Float64);
        var classSum = zeros(classes, d * d, ScalarType.Float64);
        var classCount = new long[classes];
        Tensor motor;
        try
        {
            model.eval();
            motor = layer.Motor().to(ScalarType.Float64).cpu();
            using var noGrad = no_grad();
            foreach (var batch in batches.Take(options.CalibrationCalls))
            {
                ArgumentNullException.ThrowIfNull(batch, nameof(batches));
                using var step = NewDisposeScope();
                var labels = batch.Labels.cpu().data<long>().ToArray();
                if (labels.Any(l => l < 0 || l >= classes))
                    throw new ArgumentException($"A label lies outside [0, {classes}).", nameof(batches));
                model.forward(batch.Ids, batch.KeyPaddingMask);
                var (x, mask) = (inputs.Input, inputs.KeyPaddingMask);
                var x64 = x!.to(ScalarType.Float64).cpu();
                var m = mask?.cpu();
                var c = ResidualOperator.Covariance(x64, m);
                norms.Add(ResidualOperator.Build(c, motor).norm().item<double>());
                covSum.add_(c);
                batchCovariances.Add(c.MoveToOuterDisposeScope());
                var order = OrderStatistics(x64, m);                                    // (B, d, d)
                var onehot = nn.functional.one_hot(tensor(labels), classes).to(ScalarType.Float64); // (B, C)
                classSum.add_(onehot.t().matmul(order.reshape(order.shape[0], d * d)));
                foreach (var l in labels) classCount[l]++;
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        if (norms.Count == 0) throw new ArgumentException("At least one batch is required.", nameof(batches));
        if (norms.Any(v => !double.IsFinite(v))) throw new ArgumentException("The initial operator is not finite on some batch.", nameof(batches));

        var cMean = covSum / norms.Count;
        var contrasts = ClassContrasts(classSum, classCount)
            .Select(s => ResidualOperator.Build(cMean, s.reshape(d, d))).ToArray();      // T_c = sym(C̄ S_c)
        var taskSv = linalg.svdvals(cat(contrasts, 1)).cpu().data<double>().ToArray();
        var initEig = linalg.eigvalsh(ResidualOperator.Build(cMean, motor)).cpu().data<double>().ToArray();
        var covEig = linalg.eigvalsh(cMean).cpu().data<double>().ToArray();

        double gamma0 = EnergyCalibration.Median(norms);
        if (!(gamma0 > 0)) throw new ArgumentException("Γ(0) is zero: the initial head has no directional energy on these batches.", nameof(batches));
        double thetaW = options.ThetaW ?? options.ThetaRatio * gamma0;
        double relative = thetaW / gamma0;
        double taskNorm = Math.Sqrt(taskSv.Sum(s => s * s));
        double initNorm = Math.Sqrt(initEig.Sum(s => s * s));
        double maxSv = taskSv.Length > 0 ? taskSv.Max() : 0;
        var ranks = new Dictionary<ComplexityMeasure, double>
        {
            [ComplexityMeasure.TaskOperatorRank] = ParticipationRatio(taskSv),
            [ComplexityMeasure.InitialOperatorRank] = ParticipationRatio(initEig),
            [ComplexityMeasure.CovarianceRank] = ParticipationRatio(covEig),
        };
        int heads = layer.HeadCount;
        var staticReplay = GrowthReplay.Static(ResidualOperator.Build(cMean, motor), heads, MaxHeads(layer), options.ThetaRatio, FixedTheta(options, gamma0),
            PositivePart(options));
        var calibrationReplay = Replay(layer, batchCovariances, options, gamma0, scheduled: false);
        var scheduleCovariances = schedule is null ? null : Covariances(model, layer, schedule);
        var replay = scheduleCovariances is { Count: > 0 } ? Replay(layer, scheduleCovariances, options, gamma0, scheduled: true) : calibrationReplay;
        bool isReplay = measure == ComplexityMeasure.GrowthReplay;
        // The replay has no κ²; the initial-operator rank is reported in its place so the record stays comparable.
        double kappa2 = isReplay ? ranks[ComplexityMeasure.InitialOperatorRank] : ranks[measure];
        int growths = isReplay ? replay.Growths : GreedyGrowths(gamma0, thetaW, kappa2, constant);
        double logRatio = Math.Log(gamma0 / thetaW);
        return new HeadCountPrediction(heads + growths, growths, gamma0, thetaW, logRatio, measure, kappa2, constant,
            isReplay ? replay.Heads : heads + Math.Max(0, kappa2 * logRatio / constant),
            ranks[ComplexityMeasure.TaskOperatorRank], ranks[ComplexityMeasure.InitialOperatorRank], ranks[ComplexityMeasure.CovarianceRank],
            taskSv.Count(s => s > options.ThetaRatio * taskNorm), initEig.Count(l => l > relative * initNorm),
            taskSv.OrderByDescending(s => s).Select(s => maxSv > 0 ? s / maxSv : 0).ToArray(), heads, norms.Count,
            replay.Heads, calibrationReplay.Heads, staticReplay.Heads, replay.StoppedBy, scheduleCovariances?.Count ?? 0);
    }

    /// <summary>The controller's fixed θ_w if it has one (explicit, or calibrated mode: ThetaRatio·Γ(0)); null in
    /// relative mode, where the replay re-derives θ_w from the current ‖sym(C M_a)‖_F at every decision.</summary>
    /// <summary>Class contrasts S_c = Σ_{i∈c} O_i / n − E[O]·n_c/n from per-class sums of the flattened order statistics
    /// (C, d²) and the class counts; they sum to zero over the classes.</summary>
    internal static Tensor[] ClassContrasts(Tensor classSum, IReadOnlyList<long> classCount)
    {
        long n = classCount.Sum();
        // dim: is named on purpose — a literal 0 binds to TorchSharp's sum(ScalarType) overload (Byte) and reduces to a
        // 0-d uint8 tensor; that bug made E[O] meaningless here until 2026-11-29 (docs/theory.md §7).
        var all = classSum.sum(dim: 0) / n;                                              // E[O]
        return Enumerable.Range(0, classCount.Count)
            .Select(k => classSum[k] / n - all * (classCount[k] / (double)n)).ToArray();
    }

    private static double? FixedTheta(ControllerOptions options, double gamma0) =>
        options.ThetaW ?? (options.Thresholds == ThresholdMode.Calibrated ? options.ThetaRatio * gamma0 : null);

    /// <summary>Whether the replay takes θ_w relative to the operator's positive part, as the controller does in
    /// <see cref="ThresholdMode.RelativePositive"/>.</summary>
    private static bool PositivePart(ControllerOptions options) => options.Thresholds == ThresholdMode.RelativePositive;

    private static int MaxHeads(Attention.GrowableMultiHeadAttention layer) => Math.Max(layer.Options.MaxHeads, layer.HeadCount);

    /// <summary>
    /// The growth rule replayed from the layer's current weights, every grown head drawn from a copy of the layer's
    /// head generator (so exactly the weights the real layer would draw for the same seed directions).
    /// </summary>
    private static GrowthReplayResult Replay(Attention.GrowableMultiHeadAttention layer, IReadOnlyList<Tensor> covariances,
        ControllerOptions options, double gamma0, bool scheduled)
    {
        var (wq, wk) = layer.QueryKeyWeights();
        using var generator = new Generator(0, CPU);
        using (var state = tensor(layer.ExportGeneratorState(), ScalarType.Byte)) generator.set_state(state);
        return GrowthReplay.WithNewHeads(covariances, wq, wk, generator, options.NewHead, MaxHeads(layer), options.ThetaRatio,
            FixedTheta(options, gamma0), scheduled ? options : null, PositivePart(options));
    }

    /// <summary>The layer-input covariance of every batch of <paramref name="schedule"/> (eval mode, no grad; each batch
    /// disposed after use), float64 on the CPU, in the caller's dispose scope.</summary>
    private static List<Tensor> Covariances(IncrtClassifier model, Attention.GrowableMultiHeadAttention layer, IEnumerable<SequenceBatch> schedule)
    {
        var result = new List<Tensor>();
        bool wasTraining = model.training;
        using var inputs = new Attention.LayerInputRecorder(layer);
        try
        {
            model.eval();
            using var noGrad = no_grad();
            foreach (var batch in schedule)
            {
                using var owned = batch;
                using var step = NewDisposeScope();
                model.forward(batch.Ids, batch.KeyPaddingMask);
                var (x, mask) = (inputs.Input, inputs.KeyPaddingMask);
                result.Add(ResidualOperator.Covariance(x!.to(ScalarType.Float64).cpu(), mask?.cpu()).MoveToOuterDisposeScope());
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return result;
    }

    /// <summary>
    /// The greedy-pursuit growth count: the smallest k ≥ 0 with Γ(0)(1 − c/κ²)^k ≤ θ_w; 0 when Γ(0) ≤ θ_w, 1 when c ≥ κ²
    /// (one growth removes everything).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive or non-finite argument.</exception>
    public static int GreedyGrowths(double gamma0, double thetaW, double kappaSquared, double constant)
    {
        foreach (var (v, name) in new[] { (gamma0, nameof(gamma0)), (thetaW, nameof(thetaW)), (kappaSquared, nameof(kappaSquared)), (constant, nameof(constant)) })
            if (!(v > 0 && double.IsFinite(v))) throw new ArgumentOutOfRangeException(name, v, $"{name} must be finite and positive.");
        if (gamma0 <= thetaW) return 0;
        double rate = constant / kappaSquared;
        if (rate >= 1) return 1;
        double k = Math.Log(gamma0 / thetaW) / -Math.Log(1 - rate);
        return (int)Math.Min(int.MaxValue / 2, Math.Ceiling(k - 1e-9));
    }

    /// <summary>Participation ratio (Σv²)²/Σv⁴ of a spectrum (effective number of equally strong components); 0 for an
    /// all-zero spectrum.</summary>
    public static double ParticipationRatio(IReadOnlyList<double> spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        double s2 = 0, s4 = 0;
        foreach (var v in spectrum) { double q = v * v; s2 += q; s4 += q * q; }
        return s4 > 0 ? s2 * s2 / s4 : 0;
    }

    /// <summary>
    /// Per sequence, O_b = (1/n_b²)·Σ_{p&lt;q}(x_p x_qᵀ − x_q x_pᵀ) over its non-padding tokens, shape (B, d, d).
    /// Padding positions are zeroed, so they add no pair; order is the position order of the batch.
    /// </summary>
    internal static Tensor OrderStatistics(Tensor x, Tensor? keyPaddingMask)
    {
        long b = x.shape[0], t = x.shape[1];
        using var scope = NewDisposeScope();
        var keep = keyPaddingMask is null ? ones(b, t, dtype: x.dtype, device: x.device) : keyPaddingMask.logical_not().to(x.dtype);
        var xm = x * keep.unsqueeze(-1);
        var upper = ones(t, t, dtype: x.dtype, device: x.device).triu(1);
        var skew = upper - upper.t();                                                   // +1 for p<q, −1 for p>q
        var o = xm.transpose(1, 2).matmul(skew).matmul(xm);                             // Σ_{p<q} x_p x_qᵀ − x_q x_pᵀ
        var n = keep.sum(1).clamp_min(1);
        return (o / (n * n).reshape(b, 1, 1)).MoveToOuterDisposeScope();
    }
}
