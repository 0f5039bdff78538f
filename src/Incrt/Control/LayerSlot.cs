using Incrt.Attention;
using Incrt.Surgery;

namespace Incrt.Control;

/// <summary>One controlled layer: its rules, its last decision label, and how the controller carries out a verdict.</summary>
internal sealed class LayerSlot : IDisposable
{
    private long _callsSinceChange;

    public LayerSlot(GrowableMultiHeadAttention layer, int index, HeadRuleSet rules)
    {
        ArgumentNullException.ThrowIfNull(rules.Growth, nameof(rules));
        Layer = layer;
        Index = index;
        Inputs = new LayerInputRecorder(layer);
        Growth = rules.Growth;
        Prune = rules.Prune;
        Energy = Growth as EnergyRule ?? Prune as EnergyRule;
        if (Energy is not null && Energy.Layer != layer)
            throw new ArgumentException($"Layer {index}: the energy rule reads another layer.", nameof(rules));
        Rules = new IHeadRule?[] { Growth, Prune }.OfType<IHeadRule>().Distinct().ToList();
        OtherRules = Rules.Where(r => r != Energy).ToList();
    }

    public GrowableMultiHeadAttention Layer { get; }
    /// <summary>The layer's last training input (probe forwards are paused out by the controller).</summary>
    public LayerInputRecorder Inputs { get; }
    public int Index { get; }
    public IGrowthRule Growth { get; }
    public IPruneRule? Prune { get; }
    public EnergyRule? Energy { get; }
    /// <summary>Every distinct rule of the layer (the energy rule may be both).</summary>
    public IReadOnlyList<IHeadRule> Rules { get; }
    /// <summary>The rules other than the energy rule, growth first (their states are JSON in checkpoints).</summary>
    public IReadOnlyList<IHeadRule> OtherRules { get; }
    public string LastDecision { get; private set; } = "none";
    public long CallsSinceChange => Energy?.CallsSinceChange ?? _callsSinceChange;
    public bool IsConverged => (Energy?.IsConverged ?? true) && Growth.Stopped;
    private RuleReadings Readings => Energy?.Readings ?? RuleReadings.Empty;

    /// <summary>Asks the prune rule, then (if it wants nothing) the growth rule, and carries out the answer.</summary>
    public HeadEvent? Act(LayerCall call, TorchSharp.torch.optim.Optimizer? optimizer, ControllerOptions options)
    {
        var verdict = Prune?.ProposePrune(call) ?? RuleVerdict.None();
        IHeadRule? proposer = Prune;
        if (verdict.Action == RuleAction.None && (Prune is null || Prune == Growth || Prune.HeadsOnTrial.Count == 0))
        {
            var growth = Growth.ProposeGrowth(call);
            if (growth.Action != RuleAction.None || verdict.Label == "none") (verdict, proposer) = (growth, Growth);
        }
        return Apply(call, verdict, proposer, optimizer, options);
    }

    public HeadEvent? Apply(LayerCall call, RuleVerdict verdict, IHeadRule? proposer, TorchSharp.torch.optim.Optimizer? optimizer, ControllerOptions options)
    {
        LastDecision = verdict.Label;
        switch (verdict.Action)
        {
            case RuleAction.Skip:
                return Event(call, HeadEventKind.SkippedNonFinite, -1, -1, double.NaN);
            case RuleAction.Calibrated:
                _callsSinceChange = 0;
                return Event(call, HeadEventKind.Calibrated, -1, -1, verdict.Statistic);
            case RuleAction.Grow:
            {
                int index = HeadSurgery.AddHead(Layer, optimizer, verdict.Init!, options.Moments);
                long id = Layer.HeadIds[index];
                foreach (var rule in Rules) rule.OnHeadAdded(call, index, id, rule == proposer);
                _callsSinceChange = 0;
                return Event(call, HeadEventKind.Grew, index, id, verdict.Statistic);
            }
            case RuleAction.Prune:
            {
                if (Layer.HeadCount <= 1) { LastDecision = "none"; return null; }   // never the last head
                int index = verdict.HeadIndex;
                long id = Layer.HeadIds[index];
                HeadSurgery.RemoveHeads(Layer, optimizer, new[] { index });
                foreach (var rule in Rules) rule.OnHeadRemoved(call, index, id, rule == proposer);
                _callsSinceChange = 0;
                return Event(call, HeadEventKind.Pruned, index, id, verdict.Statistic);
            }
            default:
                _callsSinceChange++;
                return null;
        }
    }

    private HeadEvent Event(LayerCall call, HeadEventKind kind, int index, long id, double statistic)
    {
        var r = Readings;
        return new(call.Step, call.Call, Index, kind, index, id, r.LambdaMax, r.LambdaMin, r.ThetaW, r.PhiW, r.GapPlus, r.DwellCalls,
            Layer.HeadCount, statistic);
    }

    public TraceRow Row(long step, long call, HeadEvent? e)
    {
        var r = Readings;
        bool skipped = e?.Kind == HeadEventKind.SkippedNonFinite;
        return new TraceRow(step, call, Index, Layer.HeadCount, skipped ? double.NaN : r.LambdaMax, skipped ? double.NaN : r.LambdaMin,
            skipped ? double.NaN : r.ExactLambdaMax, r.ThetaW, r.PhiW, skipped ? double.NaN : r.GapPlus, r.DwellCalls, LastDecision);
    }

    public void ValidateState(ControllerState state, int i)
    {
        var energy = state.Layers[i];
        if (Energy is not null)
        {
            if (energy is null) throw new ArgumentException($"layer {i}: the state has no energy-rule state, but the layer uses the energy rule.");
            Energy.ValidateState(energy, i);
        }
        else if (energy is not null)
            throw new ArgumentException($"layer {i}: the state holds an energy-rule state, but the layer's rules are {Growth.Name} and {Prune?.Name ?? "no pruning"}.");
        int saved = state.RuleStates is { } r && i < r.Count ? r[i]?.Count ?? 0 : 0;
        if (saved != OtherRules.Count)
            throw new ArgumentException($"layer {i}: the state holds {saved} rule states; the layer has {OtherRules.Count} rules besides the energy rule ({string.Join(", ", OtherRules.Select(x => x.Name))}).");
    }

    public void ImportState(ControllerState state, int i)
    {
        var energy = state.Layers[i];
        if (energy is not null) Energy!.ImportLayerState(energy);
        for (int k = 0; k < OtherRules.Count; k++) OtherRules[k].ImportState(state.RuleStates![i][k]);
        if (Prune is MaskedLossPruneRule masked) masked.ResumeTrial(Layer);
        LastDecision = state.Decisions is { } d && i < d.Count ? d[i] : energy?.LastDecision ?? "none";
    }

    public void Dispose()
    {
        foreach (var rule in Rules) rule.Dispose();
        Inputs.Dispose();
    }
}
