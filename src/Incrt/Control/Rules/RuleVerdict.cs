using Incrt.Attention;

namespace Incrt.Control;

/// <summary>What a rule asks the controller to do at one call.</summary>
public enum RuleAction
{
    /// <summary>Nothing.</summary>
    None,
    /// <summary>Add one head initialised with <see cref="RuleVerdict.Init"/>.</summary>
    Grow,
    /// <summary>Remove the head at <see cref="RuleVerdict.HeadIndex"/>.</summary>
    Prune,
    /// <summary>The call saw non-finite values: nothing may change (reported as <see cref="HeadEventKind.SkippedNonFinite"/>).</summary>
    Skip,
    /// <summary>The rule finished its calibration (reported as <see cref="HeadEventKind.Calibrated"/>).</summary>
    Calibrated,
}

/// <summary>A rule's answer for one layer at one call; the controller carries it out (surgery, events, trace).</summary>
/// <param name="Action">What to do.</param>
/// <param name="Label">The trace label of the decision (e.g. "none", "grew", "kept", "withdrawn", "skipped:input").</param>
/// <param name="HeadIndex">The head to remove (<see cref="RuleAction.Prune"/>), else −1.</param>
/// <param name="Init">How to initialise the new head (<see cref="RuleAction.Grow"/>).</param>
/// <param name="Statistic">The number the decision rests on (prune statistic, loss change, Γ(0)); NaN if none.</param>
public sealed record RuleVerdict(RuleAction Action, string Label, int HeadIndex = -1, HeadInit? Init = null, double Statistic = double.NaN)
{
    /// <summary>No change, with a trace label.</summary>
    public static RuleVerdict None(string label = "none") => new(RuleAction.None, label);

    /// <summary>Add a head.</summary>
    public static RuleVerdict Grow(HeadInit init, double statistic = double.NaN, string label = "grew") =>
        new(RuleAction.Grow, label, -1, init ?? throw new ArgumentNullException(nameof(init)), statistic);

    /// <summary>Remove the head at <paramref name="index"/>.</summary>
    public static RuleVerdict Prune(int index, double statistic, string label = "pruned") => new(RuleAction.Prune, label, index, null, statistic);

    /// <summary>Skip the call because <paramref name="what"/> was not finite.</summary>
    public static RuleVerdict Skip(string what) => new(RuleAction.Skip, "skipped:" + what);
}
