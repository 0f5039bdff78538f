using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Xunit;

namespace Incrt.Tests.Control;

/// <summary>
/// Within one controller call the weights do not move, so the controller answers a probe of a model state it has
/// already probed in that call from the loss it measured: two layers' loss-aware rules share the unmasked forward pass.
/// </summary>
public class ProbeReuseTests
{
    private static readonly LossAwareOptions Fast = LossAwareRuleTests.Fast;   // short windows and trials

    private static GrowableMultiHeadAttention Layer(int seed) =>
        new(new AttentionOptions(16, HeadDim: 4, InitialHeads: 1, MaxHeads: 8, Seed: (ulong)seed));

    /// <summary>Probe loss = 1 + 0.01 per head + maskCost[layer] per masked head; counts its forward passes per step.</summary>
    private sealed class CountingProbe(GrowableMultiHeadAttention[] layers, params double[] maskCost)
    {
        public Dictionary<long, int> ForwardsAtStep { get; } = new();
        public long CurrentStep { get; set; }

        public double Loss()
        {
            ForwardsAtStep[CurrentStep] = ForwardsAtStep.GetValueOrDefault(CurrentStep) + 1;
            double loss = 1.0;
            for (int l = 0; l < layers.Length; l++)
                for (int h = 0; h < layers[l].HeadCount; h++) loss += 0.01 + (layers[l].IsMasked(h) ? maskCost[l] : 0);
            return loss;
        }
    }

    [Fact]
    public void Two_layers_judging_their_trial_heads_in_one_call_share_the_unmasked_probe()
    {
        using var a = Layer(1);
        using var b = Layer(2);
        var probe = new CountingProbe(new[] { a, b }, 0.5, 0.5);
        using var c = new HeadController(new[] { a, b }, null, ControllerPresets.LossAware with { Interval = 1, LossAware = Fast });
        c.LossProbe = probe.Loss;
        for (long s = 0; s < 60; s++)
        {
            probe.CurrentStep = s;
            c.Step(s, 0.5);                                   // a flat loss: both layers see the plateau at the same call
        }

        c.HeadCounts.Should().OnlyContain(h => h >= 2, "a flat loss keeps both layers growing");
        var judged = c.Trace.Rows.Where(r => r.Decision == "kept").Select(r => r.Step).Distinct().ToList();
        judged.Should().NotBeEmpty("both trial heads cost 0.5 when masked, so each is kept at its first probe");
        foreach (long step in judged)
            probe.ForwardsAtStep[step].Should().Be(3, "one unmasked pass serves both layers, plus one pass per masked trial head");
        c.ProbeForwards.Should().Be(probe.ForwardsAtStep.Values.Sum());
        c.ProbeSeconds.Should().BePositive().And.BeLessThanOrEqualTo(c.StepSeconds, "the probes run inside the controller's calls");
    }

    [Fact]
    public void A_probe_after_the_model_changed_in_the_same_call_is_measured_again()
    {
        using var a = Layer(1);
        using var b = Layer(2);
        var probe = new CountingProbe(new[] { a, b }, 0.0, 0.0);   // neither trial head ever becomes useful
        using var c = new HeadController(new[] { a, b }, null,
            ControllerPresets.LossAware with { Interval = 1, LossAware = Fast with { MaxWithdrawals = 1 } });
        c.LossProbe = probe.Loss;
        for (long s = 0; s < 80; s++)
        {
            probe.CurrentStep = s;
            c.Step(s, 0.5);
        }

        c.HeadCounts.Should().Equal(1, 1);
        var withdrawn = c.Trace.Rows.Where(r => r.Decision == "withdrawn").ToList();
        withdrawn.Should().HaveCount(2);
        withdrawn.Select(r => r.Step).Distinct().Should().ContainSingle("both layers grew at the same plateau and end their trials together");
        long step = withdrawn[0].Step;
        probe.ForwardsAtStep[step].Should().Be(4,
            "layer 0 removed its trial head, so layer 1's unmasked probe sees another model and must run again");
        probe.ForwardsAtStep[0].Should().Be(1, "the two layers' growth and prune rules all read L₀ from one unmasked pass");
    }
}
