using System.Text.Json;

namespace Incrt.Control;

/// <summary>
/// Loss-aware pruning [ours; masking importance after Michel et al. 2019, removal trial after "prune, then let the rest
/// recover"]: every <see cref="LossAwareOptions.PruneEverySteps"/> steps (less often while checks find nothing to act
/// on: <see cref="LossAwareOptions.MaxPruneEverySteps"/>), mask each head that is old enough
/// (<see cref="LossAwareOptions.PruneAgeSteps"/>) and not yet found needed, one at a time, on the probe batch. If the
/// cheapest head's masking costs less than a useful amount (<see cref="LossAwareOptions.IsUseful"/>) it is removed at
/// once. Otherwise it goes on a removal trial: it stays masked while training goes on for
/// <see cref="LossAwareOptions.RemovalTrialSteps"/> steps, so the other heads can take over its work; if the probe loss
/// without it has then come back to within a useful amount of the loss before the trial, the head was redundant and is
/// removed, else it is unmasked and marked needed until the layer changes. A masked head costs the loss, but two heads
/// that share one job are each costly to mask, so only retraining shows that one of them is enough. One head at a time;
/// removal trials only once the growth rule has stopped (<see cref="LayerCall.GrowthStopped"/>); none while a growth
/// trial runs or after <see cref="LossAwareOptions.FreezeAtStep"/>; never the last head.
/// </summary>
/// <remarks>Cost: min(H, <see cref="LossAwareOptions.PruneProbeHeads"/>) + 1 probe forwards per check (H + 1 when it is
/// null), one per removal trial. Needs <see cref="HeadController.LossProbe"/>.</remarks>
public sealed class MaskedLossPruneRule : IPruneRule
{
    private readonly LossAwareOptions _o;
    private PruneState _s = new();
    private IDisposable? _trialMask;

    /// <summary>Creates the rule for one layer.</summary>
    public MaskedLossPruneRule(LossAwareOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options;
    }

    /// <inheritdoc />
    public string Name => "masked-loss";

    /// <summary>The loss increase of masking each head at the last check, by head id (a copy); with
    /// <see cref="LossAwareOptions.PruneProbeHeads"/>, each head's last reading.</summary>
    public IReadOnlyDictionary<long, double> LastIncreases => new Dictionary<long, double>(_s.LastIncreases);

    /// <inheritdoc />
    public IReadOnlyCollection<long> HeadsOnTrial => _s.TrialHead >= 0 ? new[] { _s.TrialHead } : Array.Empty<long>();

    /// <inheritdoc />
    public RuleReadings Readings => RuleReadings.Empty;

    /// <inheritdoc />
    public void ObserveStep(long step, double loss) { }

    /// <inheritdoc />
    public RuleVerdict ProposePrune(LayerCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        _s.ReferenceLoss ??= RuleGuards.FiniteProbeLoss(call);       // L₀, once; throws the message that names a missing probe
        if (_s.ReferenceLoss is null) return RuleVerdict.Skip("probe");
        var ids = call.Layer.HeadIds;
        foreach (long id in ids) _s.BirthStep.TryAdd(id, call.Step);
        if (_s.TrialHead >= 0) return JudgeRemoval(call);
        if (ids.Count <= 1 || call.ProtectedHeads.Count > 0) return RuleVerdict.None();
        if (_o.FreezeAtStep is { } last && call.Step > last) return RuleVerdict.None();
        if (_o.StartAtStep is { } first && call.Step < first) return RuleVerdict.None("warm-up");
        if (_s.LastCheckStep is { } previous && call.Step - previous < CheckInterval) return RuleVerdict.None();
        var candidates = Enumerable.Range(0, ids.Count)
            .Where(h => call.Step - _s.BirthStep[ids[h]] >= _o.PruneAgeSteps && !_s.Needed.Contains(ids[h])).ToList();
        if (candidates.Count == 0) return RuleVerdict.None();
        if (!RuleGuards.ParametersFinite(call.Layer)) return RuleVerdict.Skip("weights");

        _s.LastCheckStep = call.Step;
        double baseLoss = call.ProbeLoss(Array.Empty<int>());
        if (!double.IsFinite(baseLoss)) return RuleVerdict.Skip("probe");
        if (_o.PruneProbeHeads is { } most && candidates.Count > most) candidates = Watched(candidates, ids, most);
        else _s.LastIncreases.Clear();
        int best = -1;
        double bestIncrease = double.PositiveInfinity;
        foreach (int h in candidates)
        {
            double increase = call.ProbeLoss(new[] { h }) - baseLoss;
            if (!double.IsFinite(increase)) return RuleVerdict.Skip("probe");
            _s.LastIncreases[ids[h]] = increase;
            if (increase < bestIncrease) (best, bestIncrease) = (h, increase);
        }
        if (!_o.IsUseful(bestIncrease, _s.ReferenceLoss.Value)) return RuleVerdict.Prune(best, bestIncrease);
        // A removal trial compares the loss before and after training without the head, so it only means something
        // once the layer has stopped growing: while other heads still learn, their progress would hide the loss.
        if (_o.RemovalTrialSteps == 0 || !call.GrowthStopped)
        {
            // Nothing to act on and the layer unchanged: the next check would most likely find the same, so wait longer.
            if (_o.MaxPruneEverySteps is { } longest) _s.CheckInterval = Math.Max(Math.Min(2 * CheckInterval, longest), _o.PruneEverySteps);
            return RuleVerdict.None("checked");
        }
        _s.TrialHead = ids[best];
        _s.TrialStart = call.Step;
        _s.TrialBaseLoss = baseLoss;
        _trialMask = call.Layer.MaskHeads(new[] { best });
        return new RuleVerdict(RuleAction.None, "removal-trial", best, null, bestIncrease);
    }

    /// <summary>Steps from the last check to the next one: <see cref="LossAwareOptions.PruneEverySteps"/>, doubled after
    /// each check that found nothing to act on (up to <see cref="LossAwareOptions.MaxPruneEverySteps"/>) until the layer
    /// changes.</summary>
    public long CheckInterval => _s.CheckInterval ?? _o.PruneEverySteps;

    /// <summary>The <paramref name="most"/> candidates a bounded check masks: no reading yet first, then the cheapest
    /// last reading; ties by position. Readings of the heads left out are kept for the next check.</summary>
    private List<int> Watched(List<int> candidates, IReadOnlyList<long> ids, int most) =>
        candidates.OrderBy(h => _s.LastIncreases.TryGetValue(ids[h], out double x) ? x : double.NegativeInfinity)
            .Take(most).OrderBy(h => h).ToList();

    private RuleVerdict JudgeRemoval(LayerCall call)
    {
        int index = RuleGuards.IndexOf(call.Layer, _s.TrialHead);
        if (index < 0) { EndTrial(); return RuleVerdict.None(); }
        if (call.Step - _s.TrialStart < _o.RemovalTrialSteps) return RuleVerdict.None("removal-trial");
        double without = call.ProbeLoss(Array.Empty<int>());       // the trial head is still masked
        long id = _s.TrialHead;
        double cost = without - _s.TrialBaseLoss;
        EndTrial();
        if (!double.IsFinite(without)) return RuleVerdict.Skip("probe");
        if (!_o.IsUseful(cost, _s.ReferenceLoss!.Value))
        {
            _s.LastCheckStep = null;                                  // the trial was the recovery time: check again at once
            return RuleVerdict.Prune(index, cost);
        }
        _s.LastCheckStep = call.Step;
        _s.Needed.Add(id);
        return new RuleVerdict(RuleAction.None, "needed", index, null, cost);
    }

    private void EndTrial()
    {
        _trialMask?.Dispose();
        _trialMask = null;
        _s.TrialHead = -1;
    }

    /// <inheritdoc />
    public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule)
    {
        _s.BirthStep[headId] = call.Step;
        _s.Needed.Clear();                                          // the layer changed: earlier verdicts may not hold
        _s.CheckInterval = null;
    }

    /// <inheritdoc />
    public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule)
    {
        _s.BirthStep.Remove(headId);
        _s.LastIncreases.Remove(headId);
        _s.Needed.Clear();
        _s.CheckInterval = null;
    }

    /// <inheritdoc />
    public JsonElement ExportState() => JsonSerializer.SerializeToElement(_s);

    /// <summary>Restores the state; a removal trial in progress is resumed (its head masked again).</summary>
    /// <param name="state">A state from <see cref="ExportState"/>.</param>
    public void ImportState(JsonElement state)
    {
        var s = state.Deserialize<PruneState>() ?? throw new ArgumentException("The masked-loss rule state is empty.", nameof(state));
        if (s.BirthStep is null || s.LastIncreases is null || s.Needed is null)
            throw new ArgumentException("The masked-loss rule state is incomplete.", nameof(state));
        _s = s;
    }

    /// <summary>Re-masks the head of a removal trial restored from a checkpoint.</summary>
    internal void ResumeTrial(Attention.GrowableMultiHeadAttention layer)
    {
        if (_s.TrialHead < 0 || _trialMask is not null) return;
        int index = RuleGuards.IndexOf(layer, _s.TrialHead);
        if (index >= 0) _trialMask = layer.MaskHeads(new[] { index });
        else _s.TrialHead = -1;
    }

    /// <summary>Unmasks a head still on removal trial.</summary>
    public void Dispose() => EndTrial();
}

/// <summary>The state of a <see cref="MaskedLossPruneRule"/> (checkpoints).</summary>
internal sealed class PruneState
{
    public long? LastCheckStep { get; set; }
    public long? CheckInterval { get; set; }
    public double? ReferenceLoss { get; set; }
    public Dictionary<long, long> BirthStep { get; set; } = new();
    public Dictionary<long, double> LastIncreases { get; set; } = new();
    public HashSet<long> Needed { get; set; } = new();
    public long TrialHead { get; set; } = -1;
    public long TrialStart { get; set; }
    public double TrialBaseLoss { get; set; }
}
