using System.Text.Json;
using Incrt.Control;
using Incrt.Samples.Common;

namespace Incrt.Benchmarks;

/// <summary>The controller presets the <c>controller</c> and <c>e2e</c> cases compare (<c>--controllers</c>), named as
/// the samples' <c>--controller</c> option names them.</summary>
internal static class BenchControllers
{
    /// <summary><see cref="ControllerPresets.LossAware"/>, the library's and every sample's default.</summary>
    public const string Loss = ControllerChoice.Loss;

    /// <summary><see cref="ControllerPresets.Energy"/> (<c>new ControllerOptions()</c>).</summary>
    public const string Energy = ControllerChoice.Energy;

    /// <summary><see cref="ControllerPresets.LossAware"/> with a prune check every <see cref="LossAwareOptions.PruneEverySteps"/>
    /// (<see cref="LossAwareOptions.MaxPruneEverySteps"/> = null, the default before 2026-11-30): what spacing out quiet
    /// checks saves. Run only when asked.</summary>
    public const string LossEvery = "loss-every";

    /// <summary><see cref="LossAwareOptions.PruneProbeHeads"/> = null as well (every candidate masked in every check): the
    /// loss-aware default at the start of 2026-11-30, what the bound saves at many heads. Run only when asked.</summary>
    public const string LossUnbounded = "loss-unbounded";

    /// <summary>The presets that run when <c>--controllers</c> is not given, the default first.</summary>
    public static readonly string[] All = { Loss, Energy };

    /// <summary>Every name <c>--controllers</c> accepts.</summary>
    public static readonly string[] Accepted = { Loss, Energy, LossEvery, LossUnbounded };

    /// <summary>Whether <paramref name="name"/> is a loss-aware preset (probe-driven rules).</summary>
    public static bool IsLoss(string name) => name is Loss or LossEvery or LossUnbounded;

    /// <summary>The preset of <paramref name="name"/>.</summary>
    public static ControllerOptions Preset(string name) => name switch
    {
        Loss => ControllerPresets.LossAware,
        Energy => ControllerPresets.Energy,
        LossEvery => ControllerPresets.LossAware with { LossAware = ControllerPresets.LossAware.LossAware with { MaxPruneEverySteps = null } },
        LossUnbounded => ControllerPresets.LossAware with
        {
            LossAware = ControllerPresets.LossAware.LossAware with { MaxPruneEverySteps = null, PruneProbeHeads = null },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"Expected {string.Join(" or ", Accepted)}."),
    };

    /// <summary>The loss preset as the measure-only rows time it: a head is useful as soon as masking it raises the probe
    /// loss at all (UsefulAbsolute = UsefulFraction = 0), so a check finds every head useful and changes nothing — the
    /// state a run can stay in (every head doing work while growth goes on). A check that finds a head to prune would
    /// remove it in a run; vetoing that at every check times a state no run stays in (the rows until 2026-11-30).</summary>
    public static ControllerOptions EveryHeadUseful(ControllerOptions preset) =>
        preset with { LossAware = preset.LossAware with { UsefulAbsolute = 0, UsefulFraction = 0 } };

    /// <summary>
    /// The preset's rules, made unable to change the layer: a Grow or Prune verdict becomes None (label
    /// <c>vetoed:…</c>), everything else — loss windows, probe forwards, masked-head probes, guards — runs as usual.
    /// "On" then does exactly the training work of "off" plus the controller's own measurements: its bookkeeping cost.
    /// </summary>
    public static HeadRuleFactory MeasureOnly(ControllerOptions options)
    {
        var rules = HeadRules.FromOptions(options);
        return (layer, index) =>
        {
            var set = rules(layer, index);
            if (ReferenceEquals(set.Growth, set.Prune))
                throw new NotSupportedException("MeasureOnly wraps separate growth and prune rules (the loss-aware preset), not the shared energy rule.");
            return new HeadRuleSet(new VetoedGrowth(set.Growth), set.Prune is null ? null : new VetoedPrune(set.Prune));
        };
    }

    private static RuleVerdict Veto(RuleVerdict v) =>
        v.Action is RuleAction.Grow or RuleAction.Prune ? RuleVerdict.None("vetoed:" + v.Label) : v;

    /// <summary>Forwards every member to the wrapped rule.</summary>
    private abstract class Forwarding(IHeadRule inner) : IHeadRule
    {
        public string Name => inner.Name;
        public IReadOnlyCollection<long> HeadsOnTrial => inner.HeadsOnTrial;
        public RuleReadings Readings => inner.Readings;
        public void ObserveStep(long step, double loss) => inner.ObserveStep(step, loss);
        public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule) => inner.OnHeadAdded(call, index, headId, byThisRule);
        public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule) => inner.OnHeadRemoved(call, index, headId, byThisRule);
        public JsonElement ExportState() => inner.ExportState();
        public void ImportState(JsonElement state) => inner.ImportState(state);
        public void Dispose() => inner.Dispose();
    }

    private sealed class VetoedGrowth(IGrowthRule inner) : Forwarding(inner), IGrowthRule
    {
        public bool Stopped => inner.Stopped;
        public RuleVerdict ProposeGrowth(LayerCall call) => Veto(inner.ProposeGrowth(call));
    }

    private sealed class VetoedPrune(IPruneRule inner) : Forwarding(inner), IPruneRule
    {
        public RuleVerdict ProposePrune(LayerCall call) => Veto(inner.ProposePrune(call));
    }
}
