using FluentAssertions;
using Incrt.Attention;
using Incrt.Surgery;
using Incrt.Tests.Attention;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static Incrt.Tests.Attention.AttentionTestHelpers;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

public class HeadSurgeryTests
{
    public enum Opt { Adam, AdamW, SgdMomentum, AdamAmsgrad }

    private static optim.Optimizer Make(Opt kind, Parameter[] ps) => kind switch
    {
        Opt.Adam => optim.Adam(ps, lr: 1e-2),
        Opt.AdamAmsgrad => optim.Adam(ps, lr: 1e-2, amsgrad: true),
        Opt.AdamW => optim.AdamW(ps, lr: 1e-2),
        _ => optim.SGD(ps, 1e-2, momentum: 0.9),
    };

    private static void TrainSteps(GrowableMultiHeadAttention layer, optim.Optimizer opt, int steps, int seed)
    {
        var gen = new Generator((ulong)seed);
        for (int i = 0; i < steps; i++)
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            var x = randn(new long[] { 3, 5, layer.DModel }, generator: gen);
            layer.forward(x).square().mean().backward();
            opt.step();
        }
    }

    /// <summary>Per-head parameter name → list of (slot name, state tensor copy).</summary>
    private static List<(string Slot, Tensor Value)> Snapshot(GrowableMultiHeadAttention layer, optim.Optimizer opt) =>
        HeadSurgery.CollectSlots(layer, opt).Where(s => s.Get() is not null).Select(s => (s.Name, s.Get()!.clone())).ToList();

    [Theory]
    [InlineData(Opt.Adam)]
    [InlineData(Opt.AdamAmsgrad)]
    [InlineData(Opt.AdamW)]
    [InlineData(Opt.SgdMomentum)]
    public void Grow_then_prune_preserves_kept_heads_and_optimizer_moments(Opt kind)
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(12, HeadDim: 4, InitialHeads: 3, Seed: 2));
        var opt = Make(kind, layer.parameters().ToArray());
        TrainSteps(layer, opt, 3, seed: 1);

        var paramsBefore = layer.PerHeadParameters.Select(p => p.detach().clone()).ToArray();
        var stateBefore = Snapshot(layer, opt);
        stateBefore.Should().NotBeEmpty();
        var handles = layer.parameters().Select(p => p.Handle).ToArray();

        int added = HeadSurgery.AddHead(layer, opt, HeadInit.Random);
        added.Should().Be(3);
        var paramsGrown = layer.PerHeadParameters.Select(p => p.detach().clone()).ToArray();
        var stateGrown = Snapshot(layer, opt);
        for (int i = 0; i < paramsBefore.Length; i++)
        {
            paramsGrown[i].shape[0].Should().Be(4);
            paramsGrown[i].narrow(0, 0, 3).Same(paramsBefore[i]).Should().BeTrue("kept heads are bit-identical");
        }
        for (int i = 0; i < stateBefore.Count; i++)
        {
            stateGrown[i].Value.narrow(0, 0, 3).Same(stateBefore[i].Value).Should().BeTrue($"{stateBefore[i].Slot} of kept heads is bit-identical");
            stateGrown[i].Value[3].abs().max().item<float>().Should().Be(0f, $"{stateBefore[i].Slot} of the new head is zero");
        }

        HeadSurgery.RemoveHeads(layer, opt, new[] { 1 });
        var kept = new long[] { 0, 2, 3 };
        var stateAfter = Snapshot(layer, opt);
        using var keepT = tensor(kept);
        for (int i = 0; i < paramsGrown.Length; i++)
            layer.PerHeadParameters[i].Same(paramsGrown[i].index_select(0, keepT)).Should().BeTrue();
        for (int i = 0; i < stateAfter.Count; i++)
            stateAfter[i].Value.Same(stateGrown[i].Value.index_select(0, keepT)).Should().BeTrue($"{stateAfter[i].Slot} after prune");

        layer.HeadIds.Should().Equal(0, 2, 3);
        layer.parameters().Select(p => p.Handle).Should().Equal(handles, "the Parameter objects survive");
        layer.named_parameters().Where(p => p.name != "out_proj_bias").Should().OnlyContain(p => p.parameter.shape[0] == 3,
            "no parameter of an old shape remains registered");

        TrainSteps(layer, opt, 2, seed: 2); // optimizer.step() works afterwards
        layer.PerHeadParameters.Should().OnlyContain(p => p.shape[0] == 3 && p.isfinite().all().item<bool>());
    }

    [Fact]
    public void Warm_start_fills_new_second_moments_with_the_mean_of_existing_heads()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(8, HeadDim: 4, InitialHeads: 2, Seed: 4));
        var opt = (Adam)optim.Adam(layer.parameters().ToArray());
        TrainSteps(layer, opt, 4, seed: 3);
        var before = Snapshot(layer, opt);

        HeadSurgery.AddHead(layer, opt, HeadInit.Random, NewHeadMoments.WarmStart);

        var after = Snapshot(layer, opt);
        for (int i = 0; i < before.Count; i++)
        {
            var expected = before[i].Slot == "exp_avg_sq" ? before[i].Value.mean(new long[] { 0 }) : zeros_like(before[i].Value[0]);
            after[i].Value[2].allclose(expected).Should().BeTrue(before[i].Slot);
        }
    }

    [Fact]
    public void An_optimizer_that_does_not_own_the_layer_is_rejected_and_nothing_changes()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(8, HeadDim: 4, Seed: 4));
        using var other = nn.Linear(8, 8);
        var opt = optim.Adam(other.parameters().ToArray());

        var act = () => HeadSurgery.AddHead(layer, opt, HeadInit.Random);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("optimizer");
        layer.HeadCount.Should().Be(1);
    }
}
