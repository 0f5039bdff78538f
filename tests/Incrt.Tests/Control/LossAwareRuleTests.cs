using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary>
/// The loss-aware rules against a scripted probe: the probe loss is a base value plus a cost for every masked head, so a
/// test states exactly which heads the "task" needs.
/// </summary>
public class LossAwareRuleTests
{
    private const int D = 16;
    internal static readonly LossAwareOptions Fast = new()
    {
        PlateauSteps = 10, PlateauImprovement = 0.03, TrialSteps = 30, ProbeEverySteps = 5, PruneEverySteps = 10, PruneAgeSteps = 20,
        RemovalTrialSteps = 20, UsefulAbsolute = 0.02, UsefulFraction = 0.03,
    };

    private static GrowableMultiHeadAttention Layer(int heads = 1) =>
        new(new AttentionOptions(D, HeadDim: 4, InitialHeads: heads, MaxHeads: 8, Seed: 3));

    /// <summary>Probe loss = 1 + Σ cost[id] over the masked heads (head ids, not positions).</summary>
    private sealed class ScriptedProbe(GrowableMultiHeadAttention layer)
    {
        public Dictionary<long, double> Cost { get; } = new();
        public double Base { get; set; } = 1.0;
        public double Loss()
        {
            double loss = Base;
            for (int h = 0; h < layer.HeadCount; h++)
                if (layer.IsMasked(h)) loss += Cost.GetValueOrDefault(layer.HeadIds[h]);
            return loss;
        }
    }

    private static HeadController Controller(GrowableMultiHeadAttention layer, ScriptedProbe probe, ControllerOptions? options = null, HeadRuleFactory? rules = null)
    {
        var c = new HeadController(new[] { layer }, null, options ?? ControllerPresets.LossAware with { Interval = 1, LossAware = Fast }, rules: rules);
        c.LossProbe = probe.Loss;
        return c;
    }

    private static List<HeadEvent> Run(HeadController c, long from, long to, Func<long, double> loss)
    {
        var events = new List<HeadEvent>();
        for (long s = from; s < to; s++) events.AddRange(c.Step(s, loss(s)));
        return events;
    }

    [Fact]
    public void Growth_waits_while_the_loss_falls_and_adds_one_function_preserving_head_at_a_plateau()
    {
        using var layer = Layer();
        var probe = new ScriptedProbe(layer);
        using var c = Controller(layer, probe);

        Run(c, 0, 40, s => 5.0 * Math.Pow(0.9, s)).Should().BeEmpty("the loss falls by far more than 3% per window");
        var grew = Run(c, 40, 65, _ => 0.5);
        grew.Should().ContainSingle(e => e.Kind == HeadEventKind.Grew);
        layer.HeadCount.Should().Be(2);
        using var scope = NewDisposeScope();
        c.GrowthRule(0).HeadsOnTrial.Should().Equal(layer.HeadIds[1]);
    }

    [Fact]
    public void A_trial_head_whose_masking_costs_loss_is_kept_and_one_that_costs_nothing_is_withdrawn_and_growth_stops()
    {
        using var layer = Layer();
        var probe = new ScriptedProbe(layer);
        using var c = Controller(layer, probe, ControllerPresets.LossAware with { Interval = 1, LossAware = Fast with { MaxWithdrawals = 1 } });
        probe.Cost[0] = 1.0;
        probe.Cost[1] = 0.5;                     // the first trial head carries part of the task; head 2 will carry nothing
        var events = Run(c, 0, 200, _ => 0.5);

        var decisions = c.Trace.Rows.Select(r => r.Decision).ToList();
        decisions.IndexOf("kept").Should().BeLessThan(decisions.IndexOf("withdrawn"));
        events.Where(e => e.Kind == HeadEventKind.Grew).Select(e => e.HeadId).Should().Equal(1L, 2L);
        events.Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned).Which.HeadId.Should().Be(2, "head 2 never became useful");
        layer.HeadIds.Should().Equal(0, 1);
        ((LossPlateauGrowthRule)c.GrowthRule(0)).Stopped.Should().BeTrue();
        layer.HeadCount.Should().Be(2);
    }

    [Fact]
    public void With_two_withdrawals_allowed_a_second_trial_follows_the_first_failure_and_can_succeed()
    {
        using var layer = Layer();
        var probe = new ScriptedProbe(layer);
        using var c = Controller(layer, probe, ControllerPresets.LossAware with { Interval = 1, LossAware = Fast with { MaxWithdrawals = 2 } });
        probe.Cost[0] = 1.0;
        probe.Cost[2] = 0.5;                     // head 1 (first trial) finds nothing, head 2 (second trial) does
        var events = Run(c, 0, 150, _ => 0.5);
        events.Where(e => e.Kind == HeadEventKind.Grew).Select(e => e.HeadId).Should().StartWith(new long[] { 1, 2 });
        events.First(e => e.Kind == HeadEventKind.Pruned).HeadId.Should().Be(1);
        layer.HeadIds.Should().Contain(2);
        c.Trace.Rows.Select(r => r.Decision).Should().Contain("kept");
    }

    [Fact]
    public void A_head_whose_masking_costs_nothing_is_pruned_but_never_the_last_one()
    {
        using var layer = Layer(heads: 3);
        var probe = new ScriptedProbe(layer);
        probe.Cost[0] = 1.0;
        probe.Cost[2] = 1.0;                     // head 1 does nothing
        using var c = Controller(layer, probe, ControllerPresets.LossAware with { Interval = 1, LossAware = Fast, Growth = GrowthSignal.LossPlateau });
        var events = Run(c, 0, 40, s => 5.0 * Math.Pow(0.9, s));
        events.Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned).Which.HeadId.Should().Be(1);
        layer.HeadIds.Should().Equal(0, 2);

        using var single = Layer(heads: 1);
        var idle = new ScriptedProbe(single);
        using var c1 = Controller(single, idle, ControllerPresets.LossAware with { Interval = 1, LossAware = Fast });
        Run(c1, 0, 100, s => 5.0 * Math.Pow(0.9, s)).Should().NotContain(e => e.Kind == HeadEventKind.Pruned);
    }

    /// <summary>A growth rule that never grows and has stopped, so the prune rule may run removal trials.</summary>
    private sealed class Settled : IGrowthRule
    {
        public string Name => "settled";
        public bool Stopped => true;
        public IReadOnlyCollection<long> HeadsOnTrial => Array.Empty<long>();
        public RuleReadings Readings => RuleReadings.Empty;
        public RuleVerdict ProposeGrowth(LayerCall call) => RuleVerdict.None();
        public void ObserveStep(long step, double loss) { }
        public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule) { }
        public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule) { }
        public System.Text.Json.JsonElement ExportState() => System.Text.Json.JsonSerializer.SerializeToElement(0);
        public void ImportState(System.Text.Json.JsonElement state) { }
        public void Dispose() { }
    }

    private static HeadController RemovalController(GrowableMultiHeadAttention layer, ScriptedProbe probe) =>
        Controller(layer, probe, new ControllerOptions { Interval = 1 }, (l, _) => new HeadRuleSet(new Settled(), new MaskedLossPruneRule(Fast)));

    [Fact]
    public void A_bounded_prune_check_masks_unread_heads_first_then_the_cheapest_and_finds_the_idle_head_in_turn()
    {
        var bounded = Fast with { PruneProbeHeads = 2, RemovalTrialSteps = 0, MaxPruneEverySteps = null };   // a check every 10 steps
        using var layer = Layer(heads: 6);
        var probe = new ScriptedProbe(layer);
        foreach (var (id, cost) in new[] { (0L, 1.0), (1L, 0.9), (2L, 0.5), (3L, 0.7), (4L, 0.0), (5L, 0.6) }) probe.Cost[id] = cost;
        using var c = Controller(layer, probe, new ControllerOptions { Interval = 1 }, (l, _) => new HeadRuleSet(new Settled(), new MaskedLossPruneRule(bounded)));
        var rule = (MaskedLossPruneRule)c.PruneRule(0)!;

        Run(c, 0, 21, _ => 1.0);                  // L₀ at step 0; first check at step 20: heads 0 and 1 (no readings yet, by position)
        c.ProbeForwards.Should().Be(1 + 3, "a bounded check costs the unmasked probe plus at most PruneProbeHeads masked ones");
        rule.LastIncreases.Keys.Should().BeEquivalentTo(new[] { 0L, 1L });
        Run(c, 21, 31, _ => 1.0);                 // step 30: the unread 2 and 3
        c.ProbeForwards.Should().Be(7);
        rule.LastIncreases.Keys.Should().BeEquivalentTo(new[] { 0L, 1L, 2L, 3L }, "readings of heads left out are kept");
        var events = Run(c, 31, 41, _ => 1.0);    // step 40: the unread 4 and 5; head 4 costs nothing and goes
        events.Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned).Which.HeadId.Should().Be(4);
        c.ProbeForwards.Should().Be(10);
        Run(c, 41, 51, _ => 1.0);                 // step 50: every head read; the two cheapest readings, 2 and 5
        rule.LastIncreases[2].Should().BeApproximately(0.5, 1e-9);
        c.ProbeForwards.Should().Be(13);

        using var full = Layer(heads: 6);
        var fullProbe = new ScriptedProbe(full);
        foreach (var (id, cost) in probe.Cost) fullProbe.Cost[id] = cost;
        using var cf = Controller(full, fullProbe, new ControllerOptions { Interval = 1 },
            (l, _) => new HeadRuleSet(new Settled(), new MaskedLossPruneRule(Fast with { RemovalTrialSteps = 0, PruneProbeHeads = null })));
        Run(cf, 0, 21, _ => 1.0).Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned).Which.HeadId.Should().Be(4);
        cf.ProbeForwards.Should().Be(1 + 7, "without a bound a check masks every candidate: H + 1 probe forwards");
    }

    [Fact]
    public void Quiet_prune_checks_space_out_up_to_MaxPruneEverySteps_and_a_pruned_head_brings_them_back()
    {
        var spaced = Fast with { RemovalTrialSteps = 0, MaxPruneEverySteps = 40 };   // PruneEverySteps = 10, PruneAgeSteps = 20
        using var layer = Layer(heads: 3);
        var probe = new ScriptedProbe(layer);
        foreach (var (id, cost) in new[] { (0L, 1.0), (1L, 0.9), (2L, 0.8) }) probe.Cost[id] = cost;
        using var c = Controller(layer, probe, new ControllerOptions { Interval = 1 }, (l, _) => new HeadRuleSet(new Settled(), new MaskedLossPruneRule(spaced)));
        var rule = (MaskedLossPruneRule)c.PruneRule(0)!;
        static IEnumerable<long> Checks(HeadController c) => c.Trace.Rows.Where(r => r.Decision == "checked").Select(r => r.Step);

        Run(c, 0, 161, _ => 1.0);
        Checks(c).Should().Equal(new long[] { 20, 40, 80, 120, 160 }, "every head stays useful: the gap doubles from 10 to at most 40");
        rule.CheckInterval.Should().Be(40);
        probe.Cost[2] = 0.0;                                      // head 2 stops mattering
        Run(c, 161, 201, _ => 1.0).Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned).Which.HeadId.Should().Be(2);
        c.Trace.Rows.Single(r => r.Decision == "pruned").Step.Should().Be(200, "the check after 160 comes 40 steps later");
        rule.CheckInterval.Should().Be(10, "a head removed: the layer changed, so checks are back to every PruneEverySteps");
        Run(c, 201, 231, _ => 1.0);
        Checks(c).Where(s => s > 200).Should().Equal(new long[] { 210, 230 });

        using var every = Layer(heads: 3);
        var p2 = new ScriptedProbe(every);
        foreach (var (id, cost) in probe.Cost) p2.Cost[id] = id == 2 ? 0.8 : cost;
        using var c2 = Controller(every, p2, new ControllerOptions { Interval = 1 },
            (l, _) => new HeadRuleSet(new Settled(), new MaskedLossPruneRule(spaced with { MaxPruneEverySteps = null })));
        Run(c2, 0, 161, _ => 1.0);
        Checks(c2).Should().HaveCount(15, "without MaxPruneEverySteps a check runs every 10 steps from step 20 to 160");
    }

    [Fact]
    public void A_removal_trial_prunes_a_head_the_others_take_over_and_keeps_a_needed_one_unmasked()
    {
        using var layer = Layer(heads: 2);
        var probe = new ScriptedProbe(layer);
        probe.Cost[0] = 1.0;
        probe.Cost[1] = 0.5;
        using var c = RemovalController(layer, probe);
        Run(c, 0, 21, _ => 1.0);                 // age guard passed: head 1, the cheaper, goes on trial
        c.PruneRule(0)!.HeadsOnTrial.Should().Equal(1L);
        layer.IsMasked(1).Should().BeTrue("the head trains masked during its removal trial");
        probe.Cost[1] = 0.0;                     // head 0 took over head 1's work
        var events = Run(c, 21, 45, _ => 1.0);
        events.Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned).Which.HeadId.Should().Be(1);
        layer.HasMaskedHeads.Should().BeFalse();

        using var needed = Layer(heads: 2);
        var p2 = new ScriptedProbe(needed);
        p2.Cost[0] = 1.0;
        p2.Cost[1] = 0.5;
        using var c2 = RemovalController(needed, p2);
        Run(c2, 0, 80, _ => 1.0).Should().NotContain(e => e.Kind == HeadEventKind.Pruned);
        needed.HeadCount.Should().Be(2);
        c2.Trace.Rows.Select(r => r.Decision).Should().Contain("needed");
        needed.HasMaskedHeads.Should().BeFalse("a needed head is unmasked after its trial");
    }

    [Fact]
    public void A_non_finite_probe_or_loss_changes_nothing()
    {
        using var layer = Layer(heads: 3);
        var probe = new ScriptedProbe(layer) { Base = double.NaN };
        using var c = Controller(layer, probe);
        var events = Run(c, 0, 100, _ => 0.5);
        events.Should().OnlyContain(e => e.Kind == HeadEventKind.SkippedNonFinite);
        layer.HeadCount.Should().Be(3);

        probe.Base = 1.0;
        c.Step(100, double.PositiveInfinity).Should().ContainSingle(e => e.Kind == HeadEventKind.SkippedNonFinite);
        layer.HeadCount.Should().Be(3);
    }

    [Fact]
    public void The_loss_aware_rules_without_a_probe_say_what_is_missing()
    {
        using var layer = Layer();
        using var c = new HeadController(new[] { layer }, null, ControllerPresets.LossAware with { Interval = 1 });
        var act = () => c.Step(0, 1.0);
        act.Should().Throw<InvalidOperationException>().WithMessage("*LossProbe*");
    }

    [Fact]
    public void A_removal_trial_in_progress_survives_a_checkpoint_round_trip()
    {
        using var a = Layer(heads: 2);
        var pa = new ScriptedProbe(a);
        pa.Cost[0] = 1.0;
        pa.Cost[1] = 0.5;
        using var ca = RemovalController(a, pa);
        Run(ca, 0, 25, _ => 1.0);
        a.IsMasked(1).Should().BeTrue();
        var state = ca.ExportState();

        using var b = Layer(heads: 2);
        var pb = new ScriptedProbe(b);
        pb.Cost[0] = 1.0;
        pb.Cost[1] = 0.5;
        using var cb = RemovalController(b, pb);
        cb.ImportState(state);
        b.IsMasked(1).Should().BeTrue("the restored trial masks its head again");

        pa.Cost[1] = pb.Cost[1] = 0.0;
        var ea = Run(ca, 25, 60, _ => 1.0);
        var eb = Run(cb, 25, 60, _ => 1.0);
        eb.Select(e => (e.Step, e.Kind, e.HeadId)).Should().Equal(ea.Select(e => (e.Step, e.Kind, e.HeadId)));
        eb.Should().Contain(e => e.Kind == HeadEventKind.Pruned);
    }

    [Fact]
    public void Invalid_loss_aware_settings_name_the_setting()
    {
        var act = () => (ControllerPresets.LossAware with { LossAware = new LossAwareOptions { TrialSteps = 0 } }).Validate();
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TrialSteps");
        var act2 = () => new LossAwareOptions { UsefulFraction = double.NaN }.Validate();
        act2.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("UsefulFraction");
        var act4 = () => new LossAwareOptions { PruneProbeHeads = 0 }.Validate();
        act4.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("PruneProbeHeads");
        var act5 = () => new LossAwareOptions { MaxPruneEverySteps = 0 }.Validate();
        act5.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MaxPruneEverySteps");
        var act3 = () => new LossPlateauGrowthRule(new LossAwareOptions(), HeadInit.Random);
        act3.Should().Throw<ArgumentException>().WithMessage("*zero output projection*");
    }
}
