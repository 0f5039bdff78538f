using System.Text.Json;

namespace Incrt.Control;

/// <summary>
/// A growth or prune rule of one layer (Torch-Pruning's "importance" idea applied to heads): the rule decides, the
/// <see cref="HeadController"/> orchestrates — when to call, surgery, events, trace, checkpoints. One instance per layer;
/// it keeps its own state and exports it for checkpoints.
/// </summary>
public interface IHeadRule : IDisposable
{
    /// <summary>The rule's name in traces and docs.</summary>
    string Name { get; }

    /// <summary>Called after every optimizer step with a finite loss, also between controller calls (cheap bookkeeping).</summary>
    void ObserveStep(long step, double loss);

    /// <summary>A head was added to the layer at <paramref name="index"/> (by this rule when <paramref name="byThisRule"/>).</summary>
    void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule);

    /// <summary>The head <paramref name="headId"/> that was at <paramref name="index"/> was removed (by this rule when
    /// <paramref name="byThisRule"/>).</summary>
    void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule);

    /// <summary>Heads this rule is still judging (a growth rule's trial heads, a prune rule's removal trial): the other rule
    /// leaves the layer alone meanwhile.</summary>
    IReadOnlyCollection<long> HeadsOnTrial { get; }

    /// <summary>The energy readings of the rule's last call for events and the trace (all NaN for rules that read none).</summary>
    RuleReadings Readings { get; }

    /// <summary>The rule's state as JSON (checkpoints).</summary>
    JsonElement ExportState();

    /// <summary>Restores a state taken by <see cref="ExportState"/> on a rule that has not been called yet.</summary>
    /// <exception cref="ArgumentException">The state does not fit the layer.</exception>
    void ImportState(JsonElement state);
}

/// <summary>Decides when a layer gets one more head (and may withdraw a head it added on trial).</summary>
public interface IGrowthRule : IHeadRule
{
    /// <summary>This call's growth decision: <see cref="RuleAction.Grow"/>, <see cref="RuleAction.Prune"/> (withdraw a
    /// head it added), <see cref="RuleAction.Skip"/>, <see cref="RuleAction.Calibrated"/> or <see cref="RuleAction.None"/>.</summary>
    RuleVerdict ProposeGrowth(LayerCall call);

    /// <summary>Whether the layer has settled (nothing on trial, the last growth test found nothing to add): prune rules
    /// that compare the loss over time wait for it.</summary>
    bool Stopped { get; }
}

/// <summary>Decides which head of a layer, if any, is removed.</summary>
public interface IPruneRule : IHeadRule
{
    /// <summary>This call's prune decision (asked before growth): <see cref="RuleAction.Prune"/>, <see cref="RuleAction.Skip"/>,
    /// <see cref="RuleAction.Calibrated"/> or <see cref="RuleAction.None"/>.</summary>
    RuleVerdict ProposePrune(LayerCall call);
}

/// <summary>Energy readings a rule exposes for events and the trace.</summary>
public sealed record RuleReadings(double LambdaMax, double LambdaMin, double ExactLambdaMax, double ThetaW, double PhiW, double GapPlus, long DwellCalls)
{
    /// <summary>No readings (loss-aware rules).</summary>
    public static RuleReadings Empty { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
}
