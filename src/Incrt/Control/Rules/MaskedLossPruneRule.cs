using System.Text.Json;

namespace Incrt.Control;

/// <summary>
/// Loss-aware pruning [ours; masking importance after Michel et al. 2019]: every
/// <see cref="LossAwareOptions.PruneEverySteps"/> steps, mask each head that is old enough
/// (<see cref="LossAwareOptions.PruneAgeSteps"/>) and not on trial, one at a time, on the probe batch; remove the head
/// whose masking raises the probe loss least, if that increase is not useful (<see cref="LossAwareOptions.IsUseful"/>:
/// the same test a trial head must pass to be kept). At most one head per check, so the layer retrains between prunes;
/// none after <see cref="LossAwareOptions.StopPruningAtStep"/>; never the last head.
/// </summary>
/// <remarks>Cost: H + 1 probe forwards per check. Needs <see cref="HeadController.LossProbe"/>.</remarks>
public sealed class MaskedLossPruneRule : IPruneRule
{
    private readonly LossAwareOptions _o;
    private PruneState _s = new();

    /// <summary>Creates the rule for one layer.</summary>
    public MaskedLossPruneRule(LossAwareOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options;
    }

    /// <inheritdoc />
    public string Name => "masked-loss";

    /// <summary>The loss increase of masking each head at the last check, by head id (a copy).</summary>
    public IReadOnlyDictionary<long, double> LastIncreases => new Dictionary<long, double>(_s.LastIncreases);

    /// <inheritdoc />
    public RuleReadings Readings => RuleReadings.Empty;

    /// <inheritdoc />
    public void ObserveStep(long step, double loss) { }

    /// <inheritdoc />
    public RuleVerdict ProposePrune(LayerCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (_s.ReferenceLoss is null)
        {
            double reference = call.ProbeLoss(Array.Empty<int>());   // throws the message that names a missing probe
            if (!double.IsFinite(reference)) return RuleVerdict.Skip("probe");
            _s.ReferenceLoss = reference;
        }
        var ids = call.Layer.HeadIds;
        foreach (long id in ids) _s.BirthStep.TryAdd(id, call.Step);
        if (ids.Count <= 1) return RuleVerdict.None();
        if (_o.StopPruningAtStep is { } last && call.Step > last) return RuleVerdict.None();
        if (_s.LastCheckStep is { } previous && call.Step - previous < _o.PruneEverySteps) return RuleVerdict.None();
        var candidates = Enumerable.Range(0, ids.Count)
            .Where(h => call.Step - _s.BirthStep[ids[h]] >= _o.PruneAgeSteps && !call.ProtectedHeads.Contains(ids[h])).ToList();
        if (candidates.Count == 0) return RuleVerdict.None();
        if (!RuleGuards.ParametersFinite(call.Layer)) return RuleVerdict.Skip("weights");

        _s.LastCheckStep = call.Step;
        double baseLoss = call.ProbeLoss(Array.Empty<int>());
        if (!double.IsFinite(baseLoss)) return RuleVerdict.Skip("probe");
        _s.LastIncreases.Clear();
        int best = -1;
        double bestIncrease = double.PositiveInfinity;
        foreach (int h in candidates)
        {
            double increase = call.ProbeLoss(new[] { h }) - baseLoss;
            if (!double.IsFinite(increase)) return RuleVerdict.Skip("probe");
            _s.LastIncreases[ids[h]] = increase;
            if (increase < bestIncrease) (best, bestIncrease) = (h, increase);
        }
        return _o.IsUseful(bestIncrease, _s.ReferenceLoss.Value) ? RuleVerdict.None("checked") : RuleVerdict.Prune(best, bestIncrease);
    }

    /// <inheritdoc />
    public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule) => _s.BirthStep[headId] = call.Step;

    /// <inheritdoc />
    public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule)
    {
        _s.BirthStep.Remove(headId);
        _s.LastIncreases.Remove(headId);
    }

    /// <inheritdoc />
    public JsonElement ExportState() => JsonSerializer.SerializeToElement(_s);

    /// <inheritdoc />
    public void ImportState(JsonElement state)
    {
        var s = state.Deserialize<PruneState>() ?? throw new ArgumentException("The masked-loss rule state is empty.", nameof(state));
        if (s.BirthStep is null || s.LastIncreases is null)
            throw new ArgumentException("The masked-loss rule state is incomplete.", nameof(state));
        _s = s;
    }

    /// <inheritdoc />
    public void Dispose() { }
}

/// <summary>The state of a <see cref="MaskedLossPruneRule"/> (checkpoints).</summary>
internal sealed class PruneState
{
    public long? LastCheckStep { get; set; }
    public double? ReferenceLoss { get; set; }
    public Dictionary<long, long> BirthStep { get; set; } = new();
    public Dictionary<long, double> LastIncreases { get; set; } = new();
}
