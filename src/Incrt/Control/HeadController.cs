using Incrt.Attention;
using Incrt.Energy;
using Incrt.Surgery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>
/// The INCRT grow/prune controller (docs/algorithm.md §4, §8). Call <see cref="Step"/> after every
/// <c>optimizer.step()</c>; every <see cref="ControllerOptions.Interval"/> steps it asks each layer's prune rule, then
/// its growth rule, and carries out what they decide: head surgery on the layer and the optimizer state, events, the
/// trace. The rules (<see cref="IGrowthRule"/>, <see cref="IPruneRule"/>) hold the decisions; the controller only
/// orchestrates.
/// </summary>
/// <remarks>
/// The rules come from <see cref="ControllerOptions.Growth"/> and <see cref="ControllerOptions.Prune"/>, or from a
/// <see cref="HeadRuleFactory"/>. A call whose loss is not finite, or whose rule reports non-finite input, parameters,
/// spectrum or probe loss, changes nothing and is reported as <see cref="HeadEventKind.SkippedNonFinite"/>.
/// </remarks>
public sealed class HeadController : IDisposable
{
    private readonly List<LayerSlot> _layers;
    private readonly optim.Optimizer? _optimizer;
    private readonly ILogger _logger;
    private long _calls;
    private readonly Dictionary<string, double> _probeLosses = new();   // this call's probe losses by model state
    private long _lastStep = long.MinValue;
    private bool _disposed;

    /// <summary>Creates a controller over <paramref name="layers"/>, resizing <paramref name="optimizer"/>'s state on
    /// every change.</summary>
    /// <param name="layers">The growable layers to control (at least one, no duplicates).</param>
    /// <param name="optimizer">The optimizer that owns every layer's parameters (Adam, AdamW or SGD), or null to run
    /// the controller without training (architecture changes then touch parameters only).</param>
    /// <param name="options">Settings; null for <see cref="ControllerPresets.Default"/> (loss-aware: set
    /// <see cref="LossProbe"/>, or train with <see cref="Training.Trainer"/>, which sets one).</param>
    /// <param name="logger">Receives decisions (Information) and skipped calls (Warning).</param>
    /// <param name="model">When given, every layer must be a submodule of it.</param>
    /// <param name="rules">Builds each layer's rules; null builds them from <paramref name="options"/>
    /// (<see cref="HeadRules.FromOptions"/>).</param>
    /// <exception cref="ArgumentException">No layers, a duplicate layer, a layer outside <paramref name="model"/>, or an
    /// optimizer that does not own a layer's parameters.</exception>
    public HeadController(IEnumerable<GrowableMultiHeadAttention> layers, optim.Optimizer? optimizer,
        ControllerOptions? options = null, ILogger? logger = null, nn.Module? model = null, HeadRuleFactory? rules = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Options = options ?? ControllerPresets.Default;
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
        var factory = rules ?? HeadRules.FromOptions(Options);
        _layers = list.Select((l, i) => new LayerSlot(l, i, factory(l, i) ?? throw new ArgumentException("The rule factory returned null.", nameof(rules)))).ToList();
    }

    /// <summary>The settings in use.</summary>
    public ControllerOptions Options { get; }

    /// <summary>
    /// The loss of the model on a fixed probe batch, computed by the caller's code (forward + loss, eval mode); the
    /// loss-aware rules call it with heads masked. Runs under <c>no_grad</c>; its forwards are not recorded as the layers' inputs. It must be
    /// a function of the model's state (a fixed batch): within one <see cref="Step"/> a state already probed is answered
    /// from the loss measured then (<see cref="ProbeForwards"/> counts the forwards actually run). Required by
    /// <see cref="LossPlateauGrowthRule"/> and <see cref="MaskedLossPruneRule"/>.
    /// </summary>
    public Func<double>? LossProbe { get; set; }

    /// <summary>Probe forward passes run so far (<see cref="LossProbe"/> calls; a probe answered from the losses
    /// already measured in the same controller call is not counted).</summary>
    public long ProbeForwards { get; private set; }

    /// <summary>Wall seconds spent in <see cref="LossProbe"/> so far (part of <see cref="StepSeconds"/>).</summary>
    public double ProbeSeconds { get; private set; }

    /// <summary>Wall seconds spent in <see cref="Step"/> so far: the rules, their probes and the head surgery — the
    /// controller's whole cost apart from training a layer that has more heads.</summary>
    public double StepSeconds { get; private set; }

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

    /// <summary>The growth rule of layer <paramref name="layer"/>.</summary>
    public IGrowthRule GrowthRule(int layer) => _layers[layer].Growth;

    /// <summary>The prune rule of layer <paramref name="layer"/>, or null when it never prunes.</summary>
    public IPruneRule? PruneRule(int layer) => _layers[layer].Prune;

    /// <summary>Thresholds of layer <paramref name="layer"/>, or null before calibration completes (or without the energy rule).</summary>
    public EnergyThresholds? Thresholds(int layer) => _layers[layer].Energy?.Thresholds;

    /// <summary>Γ(0) of layer <paramref name="layer"/>, or null before calibration completes, when θ_w was given, or
    /// without the energy rule.</summary>
    public double? Gamma0(int layer) => _layers[layer].Energy?.Gamma0;

    /// <summary>The last finite reading of layer <paramref name="layer"/>, or null.</summary>
    public SpectrumReading? LastReading(int layer) => _layers[layer].Energy?.LastReading;

    /// <summary>The captured basis Q of layer <paramref name="layer"/> (one column per grown head that still lives,
    /// also after heads were removed outside the controller).</summary>
    /// <exception cref="InvalidOperationException">The layer has no energy rule.</exception>
    public CapturedBasis Basis(int layer)
    {
        var energy = EnergyOf(layer);
        energy.Reconcile(_calls);
        return energy.Basis;
    }

    /// <summary>
    /// The prune statistic of every head of layer <paramref name="layer"/> at its last finite call, in head order
    /// (see <see cref="PruneStatistic"/>; +∞ for a head grown at that call or when the energy rule does not prune).
    /// Empty before the first finite call or without the energy rule. A copy.
    /// </summary>
    public IReadOnlyList<double> LastPruneStatistics(int layer) => _layers[layer].Energy?.LastStatistics.ToArray() ?? Array.Empty<double>();

    /// <summary>
    /// Heads of layer <paramref name="layer"/> whose last energy prune statistic marks them redundant (below φ_g for
    /// <see cref="PruneStatistic.Reference"/> and <see cref="PruneStatistic.MinorDirection"/>, at most
    /// <see cref="ControllerOptions.LeaveOneOutRatio"/> for <see cref="PruneStatistic.LeaveOneOut"/>; 0 otherwise),
    /// whether or not their window and age guard have passed.
    /// </summary>
    public int RedundantHeads(int layer) => _layers[layer].Energy is { } e ? e.LastStatistics.Count(e.IsRedundant) : 0;

    /// <summary>The head id that owns each column of <see cref="Basis"/>(<paramref name="layer"/>), in column order. A copy.</summary>
    public IReadOnlyList<long> BasisOwners(int layer) => _layers[layer].Energy?.ColumnOwners.ToArray() ?? Array.Empty<long>();

    /// <summary>Controller calls since layer <paramref name="layer"/> last grew or pruned (or since its calibration finished).</summary>
    public long CallsSinceLayerChange(int layer) => _layers[layer].CallsSinceChange;

    /// <summary>Controller calls since any layer last grew or pruned (or since calibration finished).</summary>
    public long CallsSinceLastChange => _layers.Min(l => l.CallsSinceChange);

    /// <summary>
    /// Homeostasis (Theorem 1): no grow or prune decision is possible at the current state. Energy rule: every layer
    /// is calibrated, its last λmax ≤ θ_w, and no head is redundant (<see cref="RedundantHeads"/> = 0). Loss-aware
    /// growth: the layer has stopped growing.
    /// </summary>
    public bool IsConverged => _layers.All(l => l.IsConverged);

    /// <summary>
    /// Called after each optimizer step with the step number (and, optionally, the loss). Acts on every
    /// <see cref="ControllerOptions.Interval"/>-th step; returns the decisions of this call (empty otherwise).
    /// </summary>
    /// <param name="step">Optimizer step count, increasing.</param>
    /// <param name="loss">The step's loss; a non-finite value skips the call. Loss-aware rules need it at every step.</param>
    public IReadOnlyList<HeadEvent> Step(long step, double? loss = null)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try { return StepCore(step, loss); }
        finally { StepSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds; }
    }

    private IReadOnlyList<HeadEvent> StepCore(long step, double? loss)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be ≥ 0.");
        if (step <= _lastStep && _lastStep != long.MinValue)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step must increase (last was {_lastStep}).");
        _lastStep = step;
        if (loss is { } observed && double.IsFinite(observed))
            foreach (var slot in _layers)
                foreach (var rule in slot.Rules) rule.ObserveStep(step, observed);
        if ((step + 1) % Options.Interval != 0) return Array.Empty<HeadEvent>();

        long call = _calls++;
        _probeLosses.Clear();             // the weights moved since the last call: no probe loss carries over
        var events = new List<HeadEvent>();
        foreach (var slot in _layers)
        {
            var context = new LayerCall(step, call, slot.Index, slot.Layer, loss, LossProbe is null ? null : Probe,
                slot.Growth.HeadsOnTrial, slot.Growth.Stopped, slot.Inputs);
            HeadEvent? e = loss is { } l && !double.IsFinite(l)
                ? slot.Apply(context, RuleVerdict.Skip("loss"), null, _optimizer, Options)
                : slot.Act(context, _optimizer, Options);
            if (e is not null) events.Add(e);
            Trace.Add(slot.Row(step, call, e));
        }
        foreach (var e in events) Publish(e);
        return events;
    }

    /// <summary>The caller's probe under no_grad; the probe's forwards are not recorded as layer inputs, so the energy
    /// rule keeps reading the training batch. Within one call the weights do not change, so a probe of a model state
    /// already probed in this call (the same heads in every layer, the same heads masked) returns the loss it gave
    /// then: two layers' rules that both need the unmasked loss cost one forward pass, not two, and every decision is
    /// the same as without the reuse (<see cref="LossProbe"/> is a function of the model's state: a fixed batch).</summary>
    private double Probe()
    {
        string state = ProbeState();
        if (_probeLosses.TryGetValue(state, out double known)) return known;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        double loss = RunProbe();
        ProbeSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        _probeLosses[state] = loss;
        ProbeForwards++;
        return loss;
    }

    /// <summary>The model state a probe sees: every layer's head ids in order, each marked when masked.</summary>
    private string ProbeState()
    {
        var key = new System.Text.StringBuilder();
        foreach (var slot in _layers)
        {
            var ids = slot.Layer.HeadIds;
            for (int h = 0; h < ids.Count; h++) key.Append(ids[h]).Append(slot.Layer.IsMasked(h) ? "m," : ",");
            key.Append('|');
        }
        return key.ToString();
    }

    private double RunProbe()
    {
        var paused = _layers.Select(l => l.Inputs.Pause()).ToList();
        try
        {
            using var noGrad = no_grad();
            return LossProbe!();
        }
        finally
        {
            foreach (var p in paused) p.Dispose();
        }
    }

    /// <summary>The input recorder of layer <paramref name="layer"/> (analysis tools read the last training input).</summary>
    internal LayerInputRecorder Inputs(int layer) => _layers[layer].Inputs;

    private EnergyRule EnergyOf(int layer) => _layers[layer].Energy
        ?? throw new InvalidOperationException($"Layer {layer} has no energy rule (growth {_layers[layer].Growth.Name}, prune {_layers[layer].Prune?.Name ?? "none"}).");

    private void Publish(HeadEvent e)
    {
        if (e.Kind == HeadEventKind.SkippedNonFinite)
            _logger.LogWarning("INCRT step {Step} layer {Layer}: skipped a controller call with non-finite values; nothing changed.", e.Step, e.Layer);
        else
            _logger.LogInformation("INCRT step {Step} layer {Layer}: {Kind} head {HeadId} → {Heads} heads (λmax {LambdaMax:G4}, θ_w {ThetaW:G4}, Δ+ {Gap:G3}, T_d {Dwell}, statistic {Statistic:G4})",
                e.Step, e.Layer, e.Kind, e.HeadId, e.HeadsAfter, e.LambdaMax, e.ThetaW, e.GapPlus, e.DwellCalls, e.Statistic);
        HeadChanged?.Invoke(this, e);
    }

    /// <summary>Snapshot of the controller's full state (host copies), for checkpoints.</summary>
    internal ControllerState ExportState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ControllerState(_calls, _lastStep == long.MinValue ? null : _lastStep,
            _layers.Select(l => l.Energy?.ExportLayerState(l.LastDecision)).ToList(), Trace.Rows.ToList(),
            _layers.Select(l => (IReadOnlyList<System.Text.Json.JsonElement>)l.OtherRules.Select(r => r.ExportState()).ToList()).ToList(),
            _layers.Select(l => l.LastDecision).ToList());
    }

    /// <summary>
    /// Restores a snapshot taken by <see cref="ExportState"/> on a controller over layers with the same widths, head
    /// ids and rules. The controller must not have been called yet.
    /// </summary>
    /// <exception cref="ArgumentException">Layer count, width, head ids or rules do not match, or invalid vectors.</exception>
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
        for (int i = 0; i < _layers.Count; i++) _layers[i].ValidateState(state, i);
        for (int i = 0; i < _layers.Count; i++) _layers[i].ImportState(state, i);
        _calls = state.Calls;
        _lastStep = state.LastStep ?? long.MinValue;
        foreach (var row in state.Trace ?? Array.Empty<TraceRow>()) Trace.Add(row);
    }

    /// <summary>Frees the rules (estimators and bases).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        foreach (var l in _layers) l.Dispose();
        _disposed = true;
    }
}
