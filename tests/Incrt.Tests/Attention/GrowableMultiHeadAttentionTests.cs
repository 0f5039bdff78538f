using FluentAssertions;
using Incrt.Attention;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Attention.AttentionTestHelpers;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

public class GrowableMultiHeadAttentionTests
{
    [Theory]
    [InlineData(1, 16, 5, false)]
    [InlineData(2, 16, 7, true)]
    [InlineData(4, 32, 9, false)]
    [InlineData(4, 32, 9, true)]
    [InlineData(8, 64, 3, true)]
    public void Concat_mode_matches_TorchSharp_MultiheadAttention(int heads, int d, int t, bool masked)
    {
        using var scope = NewDisposeScope();
        manual_seed(heads * 100 + d);
        using var mha = nn.MultiheadAttention(d, heads);
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: d / heads, InitialHeads: heads, MaxHeads: 16));
        CopyFrom(layer, mha, heads);
        layer.eval(); mha.eval();

        var x = randn(3, t, d);
        var pad = masked ? PaddingMask(3, t, seed: d) : null;
        var ours = layer.forward(x, pad);
        var (theirs, _) = mha.call(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), pad, false, null);

        var diff = (ours - theirs.transpose(0, 1)).abs().max().item<float>();
        diff.Should().BeLessThan(1e-5f);
    }

    [Theory]
    [InlineData(HeadAggregation.Concat, false)]
    [InlineData(HeadAggregation.Mean, true)]
    public void Gradients_match_a_float64_reference_that_loops_over_heads(HeadAggregation aggregation, bool masked)
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(12, HeadDim: 4, InitialHeads: 3,
            Aggregation: aggregation, DType: ScalarType.Float64, Seed: 7));
        var p = Params(layer);
        var x = randn(new long[] { 2, 6, 12 }, ScalarType.Float64, requires_grad: true);
        var pad = masked ? PaddingMask(2, 6, seed: 3) : null;
        var r = randn(new long[] { 2, 6, 12 }, ScalarType.Float64);

        (layer.forward(x, pad) * r).sum().backward();
        var gx = x.grad!.clone();

        // Independent leaf copies for the loop reference.
        var leaves = new[] { "in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias" }
            .ToDictionary(n => n, n => p[n].detach().clone().requires_grad_(true));
        var xr = x.detach().clone().requires_grad_(true);
        (LoopReference(xr, pad, leaves["in_proj_weight"], leaves["in_proj_bias"], leaves["out_proj_weight"], leaves["out_proj_bias"],
            aggregation == HeadAggregation.Mean) * r).sum().backward();

        (gx - xr.grad!).abs().max().item<double>().Should().BeLessThan(1e-10);
        foreach (var n in leaves.Keys)
            (p[n].grad! - leaves[n].grad!).abs().max().item<double>().Should().BeLessThan(1e-10, n);
    }

    [Fact]
    public void Function_preserving_growth_leaves_the_output_unchanged_and_removing_that_head_too()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 8, InitialHeads: 2, Seed: 1));
        layer.eval();
        var x = randn(4, 10, 16);
        var pad = PaddingMask(4, 10, seed: 5);
        var before = layer.forward(x, pad);

        int index = layer.AddHead(HeadInit.FunctionPreserving);
        layer.HeadCount.Should().Be(3);
        (layer.forward(x, pad) - before).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f);

        int seeded = layer.AddHead(HeadInit.EigenSeeded(Enumerable.Range(0, 16).Select(i => (double)(i % 3)).ToArray()).WithFunctionPreserving());
        (layer.forward(x, pad) - before).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f);

        layer.RemoveHeads(new[] { index, seeded });
        layer.HeadCount.Should().Be(2);
        (layer.forward(x, pad) - before).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void A_random_head_changes_the_output()
    {
        // Guards the test above against a vacuous pass (e.g. a forward pass that ignores new heads).
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 8, Seed: 1));
        var x = randn(2, 5, 16);
        var before = layer.forward(x);
        layer.AddHead(HeadInit.Random);
        (layer.forward(x) - before).abs().max().item<float>().Should().BeGreaterThan(1e-3f);
    }

    [Fact]
    public void Eigen_seeded_head_carries_the_requested_skew_plane()
    {
        using var scope = NewDisposeScope();
        const int d = 10;
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: 2, DType: ScalarType.Float64, Seed: 3));
        var u = new double[d]; u[2] = 3;           // normalised to e₂
        var v = new double[d]; v[5] = 1; v[2] = 1; // orthogonalised to e₅
        int h = layer.AddHead(HeadInit.EigenSeeded(u, v, seedScale: 2));
        // With d_k = 2 both columns are the seed: M = a²(u vᵀ − v uᵀ), purely antisymmetric.
        var m = layer.BilinearForms()[h];
        m[2, 5].item<double>().Should().BeApproximately(4, 1e-12);
        m[5, 2].item<double>().Should().BeApproximately(-4, 1e-12);
        (m.abs().sum().item<double>()).Should().BeApproximately(8, 1e-12);
    }

    [Fact]
    public void Motor_equals_the_sum_of_per_head_antisymmetric_forms()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(20, HeadDim: 5, InitialHeads: 4, DType: ScalarType.Float64, Seed: 9));
        var perHead = layer.AntisymmetricForms();
        var motor = layer.Motor();
        (motor - perHead.sum(dim: 0)).abs().max().item<double>().Should().BeLessThan(1e-12);
        (motor + motor.t()).abs().max().item<double>().Should().BeLessThan(1e-12, "the motor is antisymmetric");
        layer.HeadNorms().shape.Should().Equal(4);
    }

    [Theory]
    [InlineData(40, 5, 4)]    // 4·d_k < d: the rank-2d_k (Gram) route
    [InlineData(16, 16, 3)]   // 4·d_k ≥ d: the direct product route
    public void Prune_statistic_helpers_match_the_materialised_forms(int d, int dk, int heads)
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: dk, InitialHeads: heads, DType: ScalarType.Float64, Seed: 4));
        var x = randn(new long[] { 64, d }, ScalarType.Float64);
        var c = x.t().matmul(x) / 64;
        var ma = layer.AntisymmetricForms().to(ScalarType.Float64);           // (H, d, d)
        var expectedNorms = c.unsqueeze(0).matmul(ma).flatten(1).norm(1);
        var norms = layer.AntisymmetricCovarianceNorms(c);
        norms.dtype.Should().Be(ScalarType.Float64);
        ((norms - expectedNorms).abs() / expectedNorms).max().item<double>().Should().BeLessThan(1e-10);

        var u = randn(new long[] { d }, ScalarType.Float64);
        var expectedTimes = ma.matmul(u);                                      // (H, d)
        (layer.AntisymmetricFormsTimes(u) - expectedTimes).abs().max().item<double>().Should().BeLessThan(1e-10);
    }

    [Fact]
    public void Covariance_norm_of_a_head_with_zero_query_weights_is_exactly_zero()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 3, InitialHeads: 2, Seed: 2));
        using (no_grad()) Params(layer)["in_proj_weight"][1, 0].zero_();
        var x = randn(new long[] { 30, 16 }, ScalarType.Float64);
        var norms = layer.AntisymmetricCovarianceNorms(x.t().matmul(x)).data<double>().ToArray();
        norms[1].Should().Be(0);
        norms[0].Should().BeGreaterThan(0);
    }
}
