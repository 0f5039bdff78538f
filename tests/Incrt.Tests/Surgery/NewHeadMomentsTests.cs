using FluentAssertions;
using Incrt.Tests.Attention;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

/// <summary>Measures what the issue asked: with zero moments under a large shared Adam step count, a new head's first
/// updates are several times the learning rate; warm-started second moments scale them like the siblings'.</summary>
public class NewHeadMomentsTests(ITestOutputHelper output)
{
    private static double FirstUpdateOverLr(NewHeadMoments moments)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        const double lr = 1e-3;
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 2, Seed: 3));
        var opt = optim.AdamW(layer.parameters().ToArray(), lr: lr, weight_decay: 0);
        using var gen = new Generator(9);
        void TrainStep()
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            layer.forward(randn(new long[] { 8, 6, 16 }, generator: gen)).square().mean().backward();
            opt.step();
        }
        for (int i = 0; i < 200; i++) TrainStep();          // step count large: bias corrections ≈ 1

        int h = HeadSurgery.AddHead(layer, opt, HeadInit.Random, moments);
        var w = AttentionTestHelpers.Params(layer)["in_proj_weight"];
        var before = w[h].detach().clone();
        TrainStep();
        return ((w[h].detach() - before).abs().mean().item<float>()) / lr;
    }

    [Fact]
    public void Warm_start_keeps_a_new_heads_first_update_near_the_learning_rate()
    {
        double zero = FirstUpdateOverLr(NewHeadMoments.Zero);
        double warm = FirstUpdateOverLr(NewHeadMoments.WarmStart);
        output.WriteLine($"mean |first update| / lr of the new head's W_Q,K,V: zero moments {zero:F2}, warm start {warm:F2}");
        // Fresh moments at shared step t = 201: |m̂/√v̂| = (1−β1)/(1−β1^t) · √(1−β2^t)/√(1−β2) per element, whatever g is
        // (≈1.35 here, → 3.16 as t grows).
        double t = 201, expected = 0.1 / (1 - Math.Pow(0.9, t)) * Math.Sqrt(1 - Math.Pow(0.999, t)) / Math.Sqrt(0.001);
        zero.Should().BeApproximately(expected, 0.05 * expected);
        warm.Should().BeLessThan(zero / 2);
    }
}
