using Incrt.Attention;
using Incrt.Energy;
using Incrt.Surgery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>
/// The INCRT grow/prune controller (docs/algorithm.md §4). Call <see cref="Step"/> after every
/// <c>optimizer.step()</c>; every <see cref="ControllerOptions.Interval"/> steps it measures each layer's residual
/// directional energy and adds one head where it is too large, or removes a head that stayed redundant.
/// </summary>
/// <remarks>
/// Each layer has its own estimator state, captured basis Q, calibration, dwell timer and prune counters. The first
/// <see cref="ControllerOptions.CalibrationCalls"/> calls only collect ‖A_res‖_F for Γ(0) (unless θ_w is given).
/// A call whose loss, layer input, any parameter of the layer (every weight and bias), motor or spectrum is not
/// finite changes nothing and is reported as <see cref="HeadEventKind.SkippedNonFinite"/>.
/// </remarks>
public sealed class HeadController : IDisposable
{
    private readonly List<LayerControl> _layers;
    private readonly optim.Optimizer? _optimizer;
    private readonly ILogger _logger;
    private long _calls;
    private long _lastStep = long.MinValue;
    private bool _disposed;

    /// <summary>Creates a controller over <paramref name="layers"/>, resizing <paramref name="optimizer"/>'s state on
    /// every change.</summary>
    /// <param name="layers">The growable layers to control (at least one, no duplicates).</param>
    /// <param name="optimizer">The optimizer that owns every layer's parameters (Adam, AdamW or SGD), or null to run
    /// the controller without training (architecture changes then touch parameters only).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="logger">Receives decisions (Information) and skipped calls (Warning).</param>
    /// <param name="model">When given, every layer must be a submodule of it.</param>
    /// <exception cref="ArgumentException">No layers, a duplicate layer, a layer outside <paramref name="model"/>, or an
    /// optimizer that does not own a layer's parameters.</exception>
    public HeadController(IEnumerable<GrowableMultiHeadAttention> layers, optim.Optimizer? optimizer,
        ControllerOptions? options = null, ILogger? logger = null, nn.Module? model = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Options = options ?? new ControllerOptions();
        Options.Validate();
        var list = layers.ToList();
        if (list.Count == 0) throw new ArgumentException("At least one growable layer is required.", nameof(layers));
        if (list.Any(l => l is null)) throw new ArgumentException("A layer is null.", nameof(layers));
        if (list.Distinct().Count() != list.Count) throw new ArgumentException("A layer is listed twice.", nameof(layers));
        if (model is not null)
        {
            var owned = model.modules().ToHashSet();
            if (list.FirstOrDefault(l => !owned.Contains(l)) is { } stray)
                throw new ArgumentException($"Layer '{stray.GetName()}' is not part of the given model.", nameof(layers));
        }
        if (optimizer is not null)
            foreach (var layer in list) HeadSurgery.CollectSlots(layer, optimizer); // throws naming "optimizer"

        _optimizer = optimizer;
        _logger = logger ?? NullLogger.Instance;
        _layers = list.Select((l, i) => new LayerControl(l, i, Options)).ToList();
    }

    /// <summary>The settings in use.</summary>
    public ControllerOptions Options { get; }

    /// <summary>Per-call readings of every layer.</summary>
    public ControllerTrace Trace { get; } = new();

    /// <summary>Raised for every decision: calibration, growth, pruning, skipped call.</summary>
    public event EventHandler<HeadEvent>? HeadChanged;

    /// <summary>Controller calls made so far.</summary>
    public long Calls => _calls;

    /// <summary>The controlled layers.</summary>
    public IReadOnlyList<GrowableMultiHeadAttention> Layers => _layers.Select(l => l.Layer).ToList();

    /// <summary>Head count of every layer.</summary>
    public IReadOnlyList<int> HeadCounts => _layers.Select(l => l.Layer.HeadCount).ToList();

    /// <summary>Thresholds of layer <paramref name="layer"/>, or null before calibration completes.</summary>
    public EnergyThresholds? Thresholds(int layer) => _layers[layer].Thresholds;

    /// <summary>Γ(0) of layer <paramref name="layer"/>, or null before calibration completes or when θ_w was given.</summary>
    public double? Gamma0(int layer) => _layers[layer].Gamma0;

    /// <summary>The last finite reading of layer <paramref name="layer"/>, or null.</summary>
    public SpectrumReading? LastReading(int layer) => _layers[layer].LastReading;

    /// <summary>The captured basis Q of layer <paramref name="layer"/> (one column per grown head that still lives,
    /// also after heads were removed outside the controller).</summary>
    public CapturedBasis Basis(int layer)
    {
        _layers[layer].Reconcile(_calls);
        return _layers[layer].Basis;
    }

    /// <summary>
    /// The prune statistic of every head of layer <paramref name="layer"/> at its last finite call, in head order
    /// (see <see cref="PruneStatistic"/>; +∞ for a head grown at that call or when pruning is off). Empty before the
    /// first finite call. A copy.
    /// </summary>
    public IReadOnlyList<double> LastPruneStatistics(int layer) => _layers[layer].LastStatistics.ToArray();

    /// <summary>
    /// Heads of layer <paramref name="layer"/> whose last prune statistic marks them redundant under the selected rule
    /// (below φ_g for <see cref="PruneStatistic.Reference"/> and <see cref="PruneStatistic.MinorDirection"/>, at most
    /// <see cref="ControllerOptions.LeaveOneOutRatio"/> for <see cref="PruneStatistic.LeaveOneOut"/>; never with
    /// <see cref="PruneStatistic.None"/>), whether or not their window and age guard have passed.
    /// </summary>
    public int RedundantHeads(int layer) => _layers[layer].LastStatistics.Count(_layers[layer].IsRedundant);

    /// <summary>The head id that owns each column of <see cref="Basis"/>(<paramref name="layer"/>), in column order. A copy.</summary>
    public IReadOnlyList<long> BasisOwners(int layer) => _layers[layer].ColumnOwners.ToArray();

    /// <summary>Controller calls since layer <paramref name="layer"/> last grew or pruned (or since its calibration finished).</summary>
    public long CallsSinceLayerChange(int layer) => _layers[layer].CallsSinceChange;

    /// <summary>Controller calls since any layer last grew or pruned (or since calibration finished).</summary>
    public long CallsSinceLastChange => _layers.Min(l => l.CallsSinceChange);

    /// <summary>
    /// Homeostasis (Theorem 1): every layer is calibrated, its last λmax ≤ θ_w, and no head is redundant by the selected
    /// prune rule (<see cref="RedundantHeads"/> = 0), so no grow or prune decision is possible at the current state.
    /// </summary>
    public bool IsConverged => _layers.All(l => l.IsConverged);

    /// <summary>
    /// Called after each optimizer step with the step number (and, optionally, the loss). Acts on every
    /// <see cref="ControllerOptions.Interval"/>-th step; returns the decisions of this call (empty otherwise).
    /// </summary>
    /// <param name="step">Optimizer step count, increasing.</param>
    /// <param name="loss">The step's loss; a non-finite value skips the call.</param>
    public IReadOnlyList<HeadEvent> Step(long step, double? loss = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be ≥ 0.");
        if (step <= _lastStep && _lastStep != long.MinValue)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step must increase (last was {_lastStep}).");
        _lastStep = step;
        if ((step + 1) % Options.Interval != 0) return Array.Empty<HeadEvent>();

        long call = _calls++;
        var events = new List<HeadEvent>();
        foreach (var lc in _layers)
        {
            HeadEvent? e = loss is { } l && !double.IsFinite(l)
                ? lc.Skip(step, call, "loss")
                : lc.Act(step, call, _optimizer);
            if (e is not null) events.Add(e);
            Trace.Add(lc.Row(step, call, e));
        }
        foreach (var e in events) Publish(e);
        return events;
    }

    private void Publish(HeadEvent e)
    {
        if (e.Kind == HeadEventKind.SkippedNonFinite)
            _logger.LogWarning("INCRT step {Step} layer {Layer}: skipped a controller call with non-finite values; nothing changed.", e.Step, e.Layer);
        else
            _logger.LogInformation("INCRT step {Step} layer {Layer}: {Kind} head {HeadId} → {Heads} heads (λmax {LambdaMax:G4}, θ_w {ThetaW:G4}, Δ+ {Gap:G3}, T_d {Dwell})",
                e.Step, e.Layer, e.Kind, e.HeadId, e.HeadsAfter, e.LambdaMax, e.ThetaW, e.GapPlus, e.DwellCalls);
        HeadChanged?.Invoke(this, e);
    }

    /// <summary>Snapshot of the controller's full state (host copies), for checkpoints.</summary>
    internal ControllerState ExportState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ControllerState(_calls, _lastStep == long.MinValue ? null : _lastStep,
            _layers.Select(l => l.ExportState()).ToList(), Trace.Rows.ToList());
    }

    /// <summary>
    /// Restores a snapshot taken by <see cref="ExportState"/> on a controller over layers with the same widths and
    /// head ids. The controller must not have been called yet.
    /// </summary>
    /// <exception cref="ArgumentException">Layer count, width or head ids do not match, or invalid vectors.</exception>
    /// <exception cref="InvalidOperationException">The controller has already been called.</exception>
    internal void ImportState(ControllerState state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        if (_calls != 0 || _lastStep != long.MinValue || Trace.Rows.Count != 0)
            throw new InvalidOperationException("Controller state can only be restored into a controller that has not been called yet.");
        if (state.Layers is null || state.Layers.Count != _layers.Count)
            throw new ArgumentException($"The state has {state.Layers?.Count ?? 0} layers; the controller has {_layers.Count}.", nameof(state));
        if (state.Calls < 0) throw new ArgumentException("Calls must be ≥ 0.", nameof(state));
        for (int i = 0; i < _layers.Count; i++) _layers[i].ValidateState(state.Layers[i]);
        for (int i = 0; i < _layers.Count; i++) _layers[i].ImportState(state.Layers[i]);
        _calls = state.Calls;
        _lastStep = state.LastStep ?? long.MinValue;
        foreach (var row in state.Trace ?? Array.Empty<TraceRow>()) Trace.Add(row);
    }

    /// <summary>Frees the estimators and bases.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        foreach (var l in _layers) l.Dispose();
        _disposed = true;
    }

    /// <summary>Per-layer controller state.</summary>
    private sealed class LayerControl : IDisposable
    {
        private readonly ControllerOptions _o;
        private readonly EnergyCalibration _calibration;
        private readonly DirectionalEnergyEstimator _estimator;
        private readonly List<long> _columnOwner = new();            // Q column j belongs to head id _columnOwner[j]
        private readonly Dictionary<long, int> _belowCount = new();  // head id → consecutive calls with statistic < φ_g
        private readonly Dictionary<long, long> _birthCall = new();  // head id → call it was born (initial heads: 0)
        private long _callsSinceGrowth;
        private long _lastDwell;
        private string _lastDecision = "none";
        private double[] _lastStatistics = Array.Empty<double>();

        public LayerControl(GrowableMultiHeadAttention layer, int index, ControllerOptions options)
        {
            Layer = layer;
            Index = index;
            _o = options;
            _calibration = new EnergyCalibration(options.CalibrationCalls);
            _estimator = new DirectionalEnergyEstimator((int)layer.DModel, options.Estimator with { Seed = options.Estimator.Seed + index });
            Basis = new CapturedBasis((int)layer.DModel, ScalarType.Float64, layer.Device);
            foreach (var id in layer.HeadIds) _birthCall[id] = 0;
            if (options.ThetaW is { } theta)
                Thresholds = EnergyThresholds.FromGamma0(theta / EnergyThresholds.ThetaRatio, theta, options.PhiW, options.PhiG);
        }

        public GrowableMultiHeadAttention Layer { get; }
        public int Index { get; }
        public CapturedBasis Basis { get; private set; }
        public EnergyThresholds? Thresholds { get; private set; }
        public double? Gamma0 { get; private set; }
        public SpectrumReading? LastReading { get; private set; }
        public long CallsSinceChange { get; private set; }
        public IReadOnlyList<double> LastStatistics => _lastStatistics;
        public IReadOnlyList<long> ColumnOwners => _columnOwner;

        public bool IsConverged =>
            Thresholds is { } t && LastReading is { } r && r.LambdaMax <= t.ThetaW && !_lastStatistics.Any(IsRedundant);

        public HeadEvent Skip(long step, long call, string what)
        {
            _lastDecision = "skipped:" + what;
            return Event(step, call, HeadEventKind.SkippedNonFinite, -1, -1, LastReading);
        }

        /// <summary>
        /// Brings the bookkeeping in line with heads added or removed outside the controller (e.g. by
        /// <see cref="HeadSurgery"/>): drops Q columns and counters of heads that no longer exist, registers new heads.
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

        public HeadEvent? Act(long step, long call, optim.Optimizer? optimizer)
        {
            Reconcile(call);
            var (x, mask) = Layer.LastInput;
            if (x is null) { _lastDecision = "no-input"; return null; }

            using var scope = NewDisposeScope();
            // The spectrum only sees the input and W_Q, W_K; a non-finite W_V, W_O or bias would leave it finite.
            if (!x.isfinite().all().item<bool>()) return Skip(step, call, "input");
            if (Layer.parameters().Any(p => !p.isfinite().all().item<bool>())) return Skip(step, call, "weights");
            var (c, _) = Covariance(x, mask);
            var motor = Layer.Motor().to(ScalarType.Float64);
            // sym(C·M_a) once: its projection is A_res, its norm the relative threshold's reference energy.
            var full = ResidualOperator.Build(c, motor);
            var reading = _estimator.ObserveOperator(ResidualOperator.Project(full, Basis));
            if (!reading.IsFinite || !double.IsFinite(reading.LambdaMax) || !double.IsFinite(reading.LambdaMin))
                return Skip(step, call, "spectrum");

            var stats = PruneStatistics(c, full, reading);
            // Leave-one-out marks "cannot be pruned" (last head, no θ_w yet) with +∞ and a non-finite reading with NaN.
            bool badStatistic = _o.Prune == PruneStatistic.LeaveOneOut ? stats.Any(double.IsNaN) : stats.Any(s => !double.IsFinite(s));
            if (_o.Prune != PruneStatistic.None && badStatistic) return Skip(step, call, "prune statistic");

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
                if (!double.IsFinite(energy)) return Skip(step, call, "energy");
                Thresholds = Derive(energy);
            }
            if (Thresholds is null)
            {
                _calibration.Add(reading.FrobeniusNorm);
                if (!_calibration.IsComplete) { _lastDecision = "calibrating"; return null; }
                Gamma0 = _calibration.Gamma0;
                Thresholds = Derive(Gamma0.Value);
                _callsSinceGrowth = 0;
                CallsSinceChange = 0;
                _lastDecision = "calibrated";
                return Event(step, call, HeadEventKind.Calibrated, -1, -1, reading, Gamma0.Value);
            }

            var pruned = TryPrune(step, call, optimizer, reading, stats);
            if (pruned is not null) return pruned;
            return TryGrow(step, call, optimizer, reading);
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

        /// <summary>Per-head statistic (H) on the host; see <see cref="PruneStatistic"/>.</summary>
        private double[] PruneStatistics(Tensor c, Tensor full, SpectrumReading reading)
        {
            if (_o.Prune == PruneStatistic.None) return new double[Layer.HeadCount].Select(_ => double.PositiveInfinity).ToArray();
            if (_o.Prune == PruneStatistic.LeaveOneOut) return LeaveOneOutRatios(c, full);
            // Neither statistic forms the per-head d×d forms M_a,h (that cost O(H·d³) per call).
            Tensor s;
            if (_o.Prune == PruneStatistic.Reference)
                s = Layer.AntisymmetricCovarianceNorms(c);                          // ‖C M_a,h‖_F
            else
            {
                // u−ᵀ sym(C M_a,h) u− = (C u−)ᵀ (M_a,h u−).
                var u = tensor(reading.UMinus.ToArray(), ScalarType.Float64, c.device);
                s = Layer.AntisymmetricFormsTimes(u).matmul(c.matmul(u)).abs();
            }
            return s.cpu().data<double>().ToArray();
        }

        /// <summary>
        /// λmax / θ_w of the layer without each head (<see cref="LeaveOneOutEnergy"/>), with θ_w re-derived from the
        /// reduced operator the way the next call would derive it after the prune. +∞ where no decision is possible:
        /// the last head, or a calibrated θ_w that does not exist yet.
        /// </summary>
        private double[] LeaveOneOutRatios(Tensor c, Tensor full)
        {
            int heads = Layer.HeadCount;
            if (heads <= 1) return Enumerable.Repeat(double.PositiveInfinity, heads).ToArray();
            var columns = Layer.HeadIds.Select(id => _columnOwner.IndexOf(id)).ToList();
            var r = LeaveOneOutEnergy.Compute(c, full, Layer.AntisymmetricForms(), Basis, columns,
                positivePart: _o.Thresholds == ThresholdMode.RelativePositive);
            var ratios = new double[heads];
            for (int h = 0; h < heads; h++)
            {
                double? theta = _o.ThetaW
                    ?? (ThresholdReference.IsRelative(_o.Thresholds) ? _o.ThetaRatio * Math.Max(r.Energy[h], double.Epsilon) : Thresholds?.ThetaW);
                // A non-finite reading becomes NaN so the call is skipped; a θ_w that does not exist yet only means "no
                // decision" (+∞, which the skip check lets through for this statistic).
                if (!double.IsFinite(r.LambdaMax[h]) || !double.IsFinite(r.Energy[h])) ratios[h] = double.NaN;
                else ratios[h] = theta is { } t ? r.LambdaMax[h] / t : double.PositiveInfinity;
            }
            return ratios;
        }

        /// <summary>Whether statistic <paramref name="s"/> marks its head as redundant under the selected rule.</summary>
        public bool IsRedundant(double s) => _o.Prune switch
        {
            PruneStatistic.None => false,
            PruneStatistic.LeaveOneOut => s <= _o.LeaveOneOutRatio,
            _ => Thresholds is { } t && s < t.PhiG,
        };

        private HeadEvent? TryPrune(long step, long call, optim.Optimizer? optimizer, SpectrumReading reading, double[] stats)
        {
            if (_o.Prune == PruneStatistic.None) return null;
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

            long headId = ids[candidate];
            HeadSurgery.RemoveHeads(Layer, optimizer, new[] { candidate });
            int column = _columnOwner.IndexOf(headId);
            if (column >= 0)
            {
                Basis.Remove(column);                            // the reference code never does this
                _columnOwner.RemoveAt(column);
            }
            _belowCount.Remove(headId);
            _birthCall.Remove(headId);
            RestartWindowsAfterChange();
            _lastStatistics = stats.Where((_, i) => i != candidate).ToArray();
            CallsSinceChange = 0;
            _lastDecision = "pruned";
            return Event(step, call, HeadEventKind.Pruned, candidate, headId, reading, stats[candidate]);
        }

        private HeadEvent? TryGrow(long step, long call, optim.Optimizer? optimizer, SpectrumReading reading)
        {
            _lastDecision = "none";
            var t = Thresholds!;
            if (_callsSinceGrowth < _lastDwell) return null;
            if (!GrowthGate.EnergyAboveThreshold(reading.LambdaMax, reading.LambdaMin, t.ThetaW, t.PhiW)) return null;
            if (Layer.HeadCount >= Layer.Options.MaxHeads || Basis.Count >= Basis.Dimension - 2) return null;

            var init = _o.NewHead switch
            {
                GrowthInit.Random => HeadInit.Random,
                GrowthInit.FunctionPreserving => HeadInit.FunctionPreserving,
                GrowthInit.EigenSeeded => HeadInit.EigenSeeded(reading.UPlus, reading.UMinus),
                _ => HeadInit.EigenSeeded(reading.UPlus, reading.UMinus).WithFunctionPreserving(),
            };
            int index = HeadSurgery.AddHead(Layer, optimizer, init, _o.Moments);
            long id = Layer.HeadIds[index];
            using (var u = tensor(reading.UPlus.ToArray(), ScalarType.Float64, Basis.Device))
            {
                try
                {
                    Basis.Append(u);
                    _columnOwner.Add(id);
                }
                catch (ArgumentException)
                {
                    // u+ already lies in span(Q) numerically: the head is kept, Q is not extended.
                }
            }
            _estimator.Redraw(Basis);
            _birthCall[id] = call;
            _belowCount[id] = 0;
            RestartWindowsAfterChange();
            _lastStatistics = _lastStatistics.Append(double.PositiveInfinity).ToArray();
            _callsSinceGrowth = 0;
            CallsSinceChange = 0;
            _lastDecision = "grew";
            return Event(step, call, HeadEventKind.Grew, index, id, reading);
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

        private HeadEvent Event(long step, long call, HeadEventKind kind, int index, long id, SpectrumReading? r, double statistic = double.NaN) =>
            new(step, call, Index, kind, index, id, r?.LambdaMax ?? double.NaN, r?.LambdaMin ?? double.NaN,
                Thresholds?.ThetaW ?? double.NaN, Thresholds?.PhiW ?? double.NaN, r?.GapPlus ?? double.NaN, _lastDwell,
                Layer.HeadCount, statistic);

        public TraceRow Row(long step, long call, HeadEvent? e)
        {
            var r = e?.Kind == HeadEventKind.SkippedNonFinite ? null : LastReading;
            return new TraceRow(step, call, Index, Layer.HeadCount, r?.LambdaMax ?? double.NaN, r?.LambdaMin ?? double.NaN,
                r?.ExactLambdaMax ?? double.NaN, Thresholds?.ThetaW ?? double.NaN, Thresholds?.PhiW ?? double.NaN,
                r?.GapPlus ?? double.NaN, _lastDwell, _lastDecision);
        }

        public LayerControlState ExportState()
        {
            var q = Basis.ExportState();
            var columns = Enumerable.Range(0, q.GetLength(1))
                .Select(j => Enumerable.Range(0, q.GetLength(0)).Select(i => q[i, j]).ToArray()).ToList();
            return new LayerControlState(Layer.HeadIds.ToList(), (int)Layer.DModel, columns, _columnOwner.ToList(),
                _estimator.ExportState(), _estimator.TrackerDType, _calibration.Norms.ToList(), Gamma0, Thresholds, LastReading,
                CallsSinceChange, _callsSinceGrowth, _lastDwell, _lastDecision, _lastStatistics.ToArray(),
                new Dictionary<long, int>(_belowCount), new Dictionary<long, long>(_birthCall));
        }

        public void ValidateState(LayerControlState s)
        {
            ArgumentNullException.ThrowIfNull(s);
            string where = $"layer {Index}";
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

        public void ImportState(LayerControlState s)
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
            _lastDecision = s.LastDecision;
            _lastStatistics = s.LastStatistics.ToArray();
            _belowCount.Clear();
            foreach (var (k, v) in s.BelowCount) _belowCount[k] = v;
            _birthCall.Clear();
            foreach (var (k, v) in s.BirthCall) _birthCall[k] = v;
        }

        public void Dispose()
        {
            _estimator.Dispose();
            Basis.Dispose();
        }
    }
}
