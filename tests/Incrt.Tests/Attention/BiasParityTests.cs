using FluentAssertions;
using Xunit;
using static Incrt.Tests.Attention.AttentionTestHelpers;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

/// <summary>
/// Parity in float64 with every bias non-zero (both layers start with zero biases, which would hide a bias laid out
/// in the wrong head or Q/K/V slot): outputs and every gradient against TorchSharp's nn.MultiheadAttention, and after a
/// grow/prune sequence against the per-head loop reference.
/// </summary>
public class BiasParityTests
{
    private const double Tol = 1e-12;

    private static double RelDiff(Tensor actual, Tensor expected) =>
        (actual - expected).abs().max().item<double>() / (1 + expected.abs().max().item<double>());

    [Theory]
    [InlineData(1, 8, false)]
    [InlineData(3, 12, true)]
    [InlineData(4, 16, false)]
    [InlineData(4, 16, true)]
    public void Outputs_and_gradients_match_MultiheadAttention_with_non_zero_biases_in_float64(int heads, int d, bool masked)
    {
        using var scope = NewDisposeScope();
        manual_seed(31 * heads + d);
        using var mha = nn.MultiheadAttention(d, heads);
        mha.to(ScalarType.Float64);
        var theirs = Params(mha);
        using (no_grad())
        {
            theirs["in_proj_bias"].copy_(randn(3 * d, ScalarType.Float64));
            theirs["out_proj.bias"].copy_(randn(d, ScalarType.Float64));
        }
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: d / heads, InitialHeads: heads,
            MaxHeads: 8, DType: ScalarType.Float64));
        CopyFrom(layer, mha, heads);
        layer.eval(); mha.eval();
        var ours = Params(layer);
        ours["in_proj_bias"].abs().min().item<double>().Should().BeGreaterThan(0, "every Q/K/V bias entry is non-zero");

        const int t = 6;
        var x = randn(new long[] { 2, t, d }, ScalarType.Float64, requires_grad: true);
        var xt = x.detach().transpose(0, 1).clone().requires_grad_(true);
        var pad = masked ? PaddingMask(2, t, seed: d) : null;
        var r = randn(new long[] { 2, t, d }, ScalarType.Float64);

        var y = layer.forward(x, pad);
        var (yt, _) = mha.call(xt, xt, xt, pad, false, null);
        RelDiff(y, yt.transpose(0, 1)).Should().BeLessThan(Tol, "outputs");

        (y * r).sum().backward();
        (yt.transpose(0, 1) * r).sum().backward();
        long dk = d / heads;
        RelDiff(x.grad!, xt.grad!.transpose(0, 1)).Should().BeLessThan(Tol, "input gradient");
        RelDiff(ours["in_proj_weight"].grad!, theirs["in_proj_weight"].grad!.view(3, heads, dk, d).permute(1, 0, 3, 2))
            .Should().BeLessThan(Tol, "in_proj_weight gradient");
        RelDiff(ours["in_proj_bias"].grad!, theirs["in_proj_bias"].grad!.view(3, heads, dk).permute(1, 0, 2))
            .Should().BeLessThan(Tol, "in_proj_bias gradient");
        RelDiff(ours["out_proj_weight"].grad!, theirs["out_proj.weight"].grad!.t().reshape(heads, dk, d))
            .Should().BeLessThan(Tol, "out_proj_weight gradient");
        RelDiff(ours["out_proj_bias"].grad!, theirs["out_proj.bias"].grad!).Should().BeLessThan(Tol, "out_proj_bias gradient");
        ours["in_proj_bias"].grad!.abs().max().item<double>().Should().BeGreaterThan(0, "the bias gradients are compared, not two zeros");
    }

    [Theory]
    [InlineData(HeadAggregation.Concat)]
    [InlineData(HeadAggregation.Mean)]
    public void After_grows_and_prunes_outputs_and_gradients_match_the_per_head_loop_with_non_zero_biases(HeadAggregation aggregation)
    {
        using var scope = NewDisposeScope();
        manual_seed(17);
        const int d = 12;
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: 3, InitialHeads: 2, MaxHeads: 8,
            Aggregation: aggregation, DType: ScalarType.Float64, Seed: 5));
        var p = Params(layer);
        var x = randn(new long[] { 3, 7, d }, ScalarType.Float64);
        var pad = PaddingMask(3, 7, seed: 2);
        var r = randn(new long[] { 3, 7, d }, ScalarType.Float64);
        var u = Enumerable.Range(0, d).Select(i => Math.Cos(i)).ToArray();

        void CheckAgainstLoop(string after)
        {
            using var s = NewDisposeScope();
            using (no_grad())
            {
                // Fresh non-zero biases for every head, the new ones included (surgery gives new heads zero biases).
                p["in_proj_bias"].copy_(randn(p["in_proj_bias"].shape, ScalarType.Float64));
                p["out_proj_bias"].copy_(randn(d, ScalarType.Float64));
            }
            foreach (var q in p.Values) q.grad?.zero_();
            var xi = x.clone().requires_grad_(true);
            (layer.forward(xi, pad) * r).sum().backward();

            var leaves = p.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().requires_grad_(true));
            var xr = x.clone().requires_grad_(true);
            var reference = LoopReference(xr, pad, leaves["in_proj_weight"], leaves["in_proj_bias"], leaves["out_proj_weight"],
                leaves["out_proj_bias"], aggregation == HeadAggregation.Mean);
            RelDiff(layer.forward(x, pad), reference.detach()).Should().BeLessThan(Tol, $"output after {after}");
            (reference * r).sum().backward();
            RelDiff(xi.grad!, xr.grad!).Should().BeLessThan(Tol, $"input gradient after {after}");
            foreach (var (name, leaf) in leaves)
                RelDiff(p[name].grad!, leaf.grad!).Should().BeLessThan(Tol, $"{name} gradient after {after}");
        }

        CheckAgainstLoop("construction");
        layer.AddHead(HeadInit.Random);
        CheckAgainstLoop("a random growth");
        layer.AddHead(HeadInit.EigenSeeded(u));
        layer.AddHead(HeadInit.FunctionPreserving);
        CheckAgainstLoop("seeded and function-preserving growths");
        layer.RemoveHeads(new[] { 0, 3 });
        layer.HeadIds.Should().Equal(1, 2, 4);
        CheckAgainstLoop("a two-head prune");
        layer.AddHead(HeadInit.Random);
        layer.RemoveHeads(new[] { 1 });
        layer.HeadIds.Should().Equal(1, 4, 5);
        CheckAgainstLoop("growth after a prune and another prune");
    }
}
