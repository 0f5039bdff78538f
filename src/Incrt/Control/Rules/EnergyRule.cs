using System.Text.Json;
using Incrt.Attention;
using Incrt.Energy;
using Incrt.Surgery;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>
/// The directional-energy rule of the INCRT paper (docs/algorithm.md §4), growth and pruning in one object because both
/// read the same spectrum: every call it builds A = sym(C·M_a) from the layer's last input, projects out the captured
/// basis Q, and grows one head when λmax(A_res) &gt; θ_w and λmin &lt; φ_w after the dwell time; the selected
/// <see cref="PruneStatistic"/> marks a head redundant and it is removed after its window. The first
/// <see cref="ControllerOptions.CalibrationCalls"/> calls only collect ‖A_res‖_F for Γ(0) (unless θ_w is given).
/// </summary>
/// <remarks>Cost per call: one d×d covariance, one d×d eigendecomposition, plus the prune statistic (LeaveOneOut: one
/// eigendecomposition per head). A call whose layer input, parameters or spectrum is not finite is a
/// <see cref="RuleAction.Skip"/>.</remarks>
public sealed class EnergyRule : IGrowthRule, IPruneRule
{
    private readonly ControllerOptions _o;
    private readonly EnergyCalibration _calibration;
    private readonly DirectionalEnergyEstimator _estimator;
    private readonly List<long> _columnOwner = new();            // Q column j belongs to head id _columnOwner[j]
    private readonly Dictionary<long, int> _belowCount = new();  // head id → consecutive calls with statistic < φ_g
    private readonly Dictionary<long, long> _birthCall = new();  // head id → call it was born (initial heads: 0)
    private long _callsSinceGrowth;
    private long _lastDwell;
    private double[] _lastStatistics = Array.Empty<double>();
    private long _evaluatedCall = -1;
    private RuleVerdict? _verdict;                               // this call's skip / calibration / prune answer
    private SpectrumReading? _reading;

    /// <summary>Creates the rule for <paramref name="layer"/>, the <paramref name="index"/>-th layer of its controller
    /// (the index offsets the estimator's seed).</summary>
    public EnergyRule(GrowableMultiHeadAttention layer, int index, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        Layer = layer;
        _o = options;
        _calibration = new EnergyCalibration(options.CalibrationCalls);
        _estimator = new DirectionalEnergyEstimator((int)layer.DModel, options.Estimator with { Seed = options.Estimator.Seed + index });
        Basis = new CapturedBasis((int)layer.DModel, ScalarType.Float64, layer.Device);
        foreach (var id in layer.HeadIds) _birthCall[id] = 0;
        if (options.ThetaW is { } theta)
            Thresholds = EnergyThresholds.FromGamma0(theta / EnergyThresholds.ThetaRatio, theta, options.PhiW, options.PhiG);
    }

    /// <inheritdoc />
    public string Name => "energy";

    /// <summary>The layer this rule reads.</summary>
    public GrowableMultiHeadAttention Layer { get; }

    /// <summary>The captured basis Q (one column per grown head that still lives).</summary>
    public CapturedBasis Basis { get; private set; }

    /// <summary>Thresholds in force, or null before calibration.</summary>
    public EnergyThresholds? Thresholds { get; private set; }

    /// <summary>Γ(0), once calibrated (null with an explicit θ_w).</summary>
    public double? Gamma0 { get; private set; }

    /// <summary>The last finite reading.</summary>
    public SpectrumReading? LastReading { get; private set; }

    /// <summary>Calls since the layer last grew or pruned (or since calibration finished).</summary>
    public long CallsSinceChange { get; private set; }

    /// <summary>The last per-head prune statistics (+∞ for a head grown since).</summary>
    public IReadOnlyList<double> LastStatistics => _lastStatistics;

    /// <summary>The head id owning each column of <see cref="Basis"/>.</summary>
    public IReadOnlyList<long> ColumnOwners => _columnOwner;

    /// <inheritdoc />
    public IReadOnlyCollection<long> HeadsOnTrial => Array.Empty<long>();

    /// <summary>Calibrated and the last λmax at most θ_w: the energy rule would not grow now.</summary>
    public bool Stopped => Thresholds is { } t && LastReading is { } r && r.LambdaMax <= t.ThetaW;

    /// <inheritdoc />
    public RuleReadings Readings => new(LastReading?.LambdaMax ?? double.NaN, LastReading?.LambdaMin ?? double.NaN,
        LastReading?.ExactLambdaMax ?? double.NaN, Thresholds?.ThetaW ?? double.NaN, Thresholds?.PhiW ?? double.NaN,
        LastReading?.GapPlus ?? double.NaN, _lastDwell);

    /// <summary>Homeostasis (Theorem 1) for this layer: calibrated, λmax ≤ θ_w, no redundant head.</summary>
    public bool IsConverged =>
        Thresholds is { } t && LastReading is { } r && r.LambdaMax <= t.ThetaW && !_lastStatistics.Any(IsRedundant);

    /// <inheritdoc />
    public void ObserveStep(long step, double loss) { }

    /// <summary>
    /// Brings the bookkeeping in line with heads added or removed outside the rule (e.g. by <see cref="HeadSurgery"/>):
    /// drops Q columns and counters of heads that no longer exist, registers new heads.
    /// </summary>
    public void Reconcile(long call)
    {
        var alive = Layer.HeadIds.ToHashSet();
        for (int j = _columnOwner.Count - 1; j >= 0; j--)
        {
            if (alive.Contains(_columnOwner[j])) continue;
            Basis.Remove(j);
            _columnOwner.RemoveAt(j);
        }
        foreach (var gone in _birthCall.Keys.Where(id => !alive.Contains(id)).ToList())
        {
            _birthCall.Remove(gone);
            _belowCount.Remove(gone);
        }
        foreach (var id in alive) _birthCall.TryAdd(id, call);
        if (_lastStatistics.Length != Layer.HeadCount) _lastStatistics = Array.Empty<double>();
    }

    /// <inheritdoc />
    public RuleVerdict ProposePrune(LayerCall call)
    {
        Evaluate(call);
        return _verdict ?? RuleVerdict.None();
    }

    /// <inheritdoc />
    public RuleVerdict ProposeGrowth(LayerCall call)
    {
        Evaluate(call);
        if (_verdict is { Action: not RuleAction.None }) return _verdict;
        if (_reading is null) return _verdict ?? RuleVerdict.None();
        var t = Thresholds!;
        if (_callsSinceGrowth < _lastDwell) return RuleVerdict.None();
        if (!GrowthGate.EnergyAboveThreshold(_reading.LambdaMax, _reading.LambdaMin, t.ThetaW, t.PhiW)) return RuleVerdict.None();
        if (Layer.HeadCount >= Layer.Options.MaxHeads || Basis.Count >= Basis.Dimension - 2) return RuleVerdict.None();
        var init = _o.NewHead switch
        {
            GrowthInit.Random => HeadInit.Random,
            GrowthInit.FunctionPreserving => HeadInit.FunctionPreserving,
            GrowthInit.EigenSeeded => HeadInit.EigenSeeded(_reading.UPlus, _reading.UMinus),
            _ => HeadInit.EigenSeeded(_reading.UPlus, _reading.UMinus).WithFunctionPreserving(),
        };
        return RuleVerdict.Grow(init);
    }

    /// <summary>Reads the spectrum once per call: skip, calibration or prune verdict in <see cref="_verdict"/>, the
    /// finite reading in <see cref="_reading"/> when growth may be decided.</summary>
    private void Evaluate(LayerCall call)
    {
        if (_evaluatedCall == call.Call) return;
        _evaluatedCall = call.Call;
        _verdict = null;
        _reading = null;
        Reconcile(call.Call);
        var (x, mask) = (call.Input, call.KeyPaddingMask);
        if (x is null) { _verdict = RuleVerdict.None("no-input"); return; }

        using var scope = NewDisposeScope();
        // The spectrum only sees the input and W_Q, W_K; a non-finite W_V, W_O or bias would leave it finite.
        if (!x.isfinite().all().item<bool>()) { _verdict = RuleVerdict.Skip("input"); return; }
        if (Layer.parameters().Any(p => !p.isfinite().all().item<bool>())) { _verdict = RuleVerdict.Skip("weights"); return; }
        var (c, _) = Covariance(x, mask);
        var motor = Layer.Motor().to(ScalarType.Float64);
        // sym(C·M_a) once: its projection is A_res, its norm the relative threshold's reference energy.
        var full = ResidualOperator.Build(c, motor);
        var reading = _estimator.ObserveOperator(ResidualOperator.Project(full, Basis));
        if (!reading.IsFinite || !double.IsFinite(reading.LambdaMax) || !double.IsFinite(reading.LambdaMin))
        {
            _verdict = RuleVerdict.Skip("spectrum");
            return;
        }

        var stats = EnergyPruneStatistics.Compute(this, c, full, reading);
        // Leave-one-out marks "cannot be pruned" (last head, no θ_w yet) with +∞ and a non-finite reading with NaN.
        bool badStatistic = _o.Prune == PruneStatistic.LeaveOneOut ? stats.Any(double.IsNaN) : stats.Any(s => !double.IsFinite(s));
        if (EnergyPruneStatistics.IsEnergyStatistic(_o.Prune) && badStatistic) { _verdict = RuleVerdict.Skip("prune statistic"); return; }

        LastReading = reading;
        _lastStatistics = stats;
        _callsSinceGrowth++;
        CallsSinceChange++;
        _lastDwell = GrowthGate.DwellCalls(reading.GapPlus, _estimator.EtaPlus, _o.KappaT, _o.Epsilon, _o.DwellWithoutGap, _o.MaxDwellCalls);

        if (_o.ThetaW is null && ThresholdReference.IsRelative(_o.Thresholds) && Gamma0 is not null)
        {
            // Relative modes (after calibration): θ_w follows the layer's current directional energy, ‖sym(C M_a)‖_F
            // or its positive part (ThresholdMode.RelativePositive).
            double energy = ThresholdReference.Energy(full, _o.Thresholds);
            if (!double.IsFinite(energy)) { _verdict = RuleVerdict.Skip("energy"); return; }
            Thresholds = Derive(energy);
        }
        if (Thresholds is null)
        {
            _calibration.Add(reading.FrobeniusNorm);
            if (!_calibration.IsComplete) { _verdict = RuleVerdict.None("calibrating"); return; }
            Gamma0 = _calibration.Gamma0;
            Thresholds = Derive(Gamma0.Value);
            _callsSinceGrowth = 0;
            CallsSinceChange = 0;
            _verdict = new RuleVerdict(RuleAction.Calibrated, "calibrated", Statistic: Gamma0.Value);
            return;
        }
        _verdict = PruneCandidate(call.Call, stats);
        _reading = reading;
    }

    /// <summary>θ_w = ratio·reference, φ_w and φ_g from it, explicit values winning.</summary>
    private EnergyThresholds Derive(double reference)
    {
        double theta = _o.ThetaRatio * Math.Max(reference, double.Epsilon);
        return EnergyThresholds.FromGamma0(theta / EnergyThresholds.ThetaRatio, theta, _o.PhiW, _o.PhiG);
    }

    private (Tensor C, long Tokens) Covariance(Tensor x, Tensor? mask)
    {
        if (_o.Covariance == CovarianceSource.FirstSequence)
        {
            var first = x.select(0, 0);
            var m = mask?.select(0, 0);
            return (ResidualOperator.Covariance(first, m).to(ScalarType.Float64), first.shape[0]);
        }
        return (ResidualOperator.Covariance(x, mask).to(ScalarType.Float64), x.shape[0] * x.shape[1]);
    }

    /// <summary>Whether statistic <paramref name="s"/> marks its head as redundant under the selected rule.</summary>
    public bool IsRedundant(double s) => _o.Prune switch
    {
        PruneStatistic.LeaveOneOut => s <= _o.LeaveOneOutRatio,
        PruneStatistic.Reference or PruneStatistic.MinorDirection => Thresholds is { } t && s < t.PhiG,
        _ => false,
    };

    /// <summary>Counts each head's redundant calls and returns the most redundant head past its window and age guard.</summary>
    private RuleVerdict? PruneCandidate(long call, double[] stats)
    {
        if (!EnergyPruneStatistics.IsEnergyStatistic(_o.Prune)) return null;
        var ids = Layer.HeadIds;
        int candidate = -1;
        for (int h = 0; h < ids.Count; h++)
        {
            long id = ids[h];
            _belowCount[id] = IsRedundant(stats[h]) ? _belowCount.GetValueOrDefault(id) + 1 : 0;
            bool oldEnough = call - _birthCall.GetValueOrDefault(id) >= _o.EffectivePruneAgeGuard;
            if (_belowCount[id] >= _o.EffectivePruneWindow && oldEnough && (candidate < 0 || stats[h] < stats[candidate])) candidate = h;
        }
        if (candidate < 0 || ids.Count <= 1) return null;   // never prune the last head
        return RuleVerdict.Prune(candidate, stats[candidate]);
    }

    /// <inheritdoc />
    public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule)
    {
        if (!byThisRule || _reading is null)
        {
            Reconcile(call.Call);
            return;
        }
        using (var u = tensor(_reading.UPlus.ToArray(), ScalarType.Float64, Basis.Device))
        {
            try
            {
                Basis.Append(u);
                _columnOwner.Add(headId);
            }
            catch (ArgumentException)
            {
                // u+ already lies in span(Q) numerically: the head is kept, Q is not extended.
            }
        }
        _estimator.Redraw(Basis);
        _birthCall[headId] = call.Call;
        _belowCount[headId] = 0;
        RestartWindowsAfterChange();
        _lastStatistics = _lastStatistics.Append(double.PositiveInfinity).ToArray();
        _callsSinceGrowth = 0;
        CallsSinceChange = 0;
    }

    /// <inheritdoc />
    public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule)
    {
        int column = _columnOwner.IndexOf(headId);
        if (column >= 0)
        {
            Basis.Remove(column);                            // the reference code never does this
            _columnOwner.RemoveAt(column);
        }
        _belowCount.Remove(headId);
        _birthCall.Remove(headId);
        RestartWindowsAfterChange();
        _lastStatistics = _lastStatistics.Length > index ? _lastStatistics.Where((_, i) => i != index).ToArray() : Array.Empty<double>();
        CallsSinceChange = 0;
    }

    /// <summary>
    /// Leave-one-out redundancy is a statement about the whole head set (a head is redundant given the others), so
    /// after any grow or prune the evidence collected for the old set no longer applies; the φ_g statistics are
    /// per-head and keep their counts.
    /// </summary>
    private void RestartWindowsAfterChange()
    {
        if (_o.Prune != PruneStatistic.LeaveOneOut) return;
        foreach (var id in _belowCount.Keys.ToList()) _belowCount[id] = 0;
    }

    internal ControllerOptions Options => _o;

    /// <inheritdoc />
    public JsonElement ExportState() => JsonSerializer.SerializeToElement(ExportLayerState("none"));

    /// <inheritdoc />
    public void ImportState(JsonElement state)
    {
        var s = state.Deserialize<LayerControlState>() ?? throw new ArgumentException("The energy rule state is empty.", nameof(state));
        ValidateState(s, 0);
        ImportLayerState(s);
    }

    /// <summary>The rule's state in the checkpoint layout (with the controller's last decision label).</summary>
    internal LayerControlState ExportLayerState(string lastDecision)
    {
        var q = Basis.ExportState();
        var columns = Enumerable.Range(0, q.GetLength(1))
            .Select(j => Enumerable.Range(0, q.GetLength(0)).Select(i => q[i, j]).ToArray()).ToList();
        return new LayerControlState(Layer.HeadIds.ToList(), (int)Layer.DModel, columns, _columnOwner.ToList(),
            _estimator.ExportState(), _estimator.TrackerDType, _calibration.Norms.ToList(), Gamma0, Thresholds, LastReading,
            CallsSinceChange, _callsSinceGrowth, _lastDwell, lastDecision, _lastStatistics.ToArray(),
            new Dictionary<long, int>(_belowCount), new Dictionary<long, long>(_birthCall));
    }

    /// <summary>Throws an <see cref="ArgumentException"/> when <paramref name="s"/> does not fit the layer.</summary>
    internal void ValidateState(LayerControlState s, int index)
    {
        ArgumentNullException.ThrowIfNull(s);
        string where = $"layer {index}";
        if (s.Dimension != Layer.DModel)
            throw new ArgumentException($"{where}: the state has width {s.Dimension}; the layer has d_model = {Layer.DModel}.");
        if (s.HeadIds is null || !s.HeadIds.SequenceEqual(Layer.HeadIds))
            throw new ArgumentException($"{where}: the state was taken with head ids [{string.Join(", ", s.HeadIds ?? Array.Empty<long>())}]; " +
                $"the layer has [{string.Join(", ", Layer.HeadIds)}].");
        if (s.BasisColumns is null || s.ColumnOwner is null || s.BasisColumns.Count != s.ColumnOwner.Count)
            throw new ArgumentException($"{where}: Q columns and their owners do not match.");
        if (s.Estimator is null || s.CalibrationNorms is null || s.LastStatistics is null || s.BelowCount is null || s.BirthCall is null || s.LastDecision is null)
            throw new ArgumentException($"{where}: the state is incomplete.");
        if (s.CalibrationNorms.Any(n => !double.IsFinite(n) || n < 0))
            throw new ArgumentException($"{where}: a calibration norm is negative or not finite.");
    }

    /// <summary>Restores a validated state exactly.</summary>
    internal void ImportLayerState(LayerControlState s)
    {
        var basis = CapturedBasis.FromColumnsExact(s.Dimension, s.BasisColumns, Basis.DType, Layer.Device);
        _estimator.ImportStateExact(s.Estimator, s.TrackerDType, Layer.Device);
        Basis.Dispose();
        Basis = basis;
        _columnOwner.Clear();
        _columnOwner.AddRange(s.ColumnOwner);
        foreach (var n in s.CalibrationNorms) _calibration.Add(n);
        Gamma0 = s.Gamma0;
        Thresholds = s.Thresholds;
        LastReading = s.LastReading;
        CallsSinceChange = s.CallsSinceChange;
        _callsSinceGrowth = s.CallsSinceGrowth;
        _lastDwell = s.LastDwell;
        _lastStatistics = s.LastStatistics.ToArray();
        _belowCount.Clear();
        foreach (var (k, v) in s.BelowCount) _belowCount[k] = v;
        _birthCall.Clear();
        foreach (var (k, v) in s.BirthCall) _birthCall[k] = v;
    }

    /// <summary>Frees the estimator and the basis.</summary>
    public void Dispose()
    {
        _estimator.Dispose();
        Basis.Dispose();
    }
}
