using FluentAssertions;
using Incrt.Attention;
using Incrt.Surgery;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

public class GrowPruneTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Training_with_random_grows_and_prunes_keeps_learning_and_leaks_no_tensors()
    {
        manual_seed(11);
        var rng = new Random(5);
        const int d = 16;
        using var teacher = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: 4, InitialHeads: 4, Seed: 99));
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: 4, InitialHeads: 1, MaxHeads: 8, Seed: 1));
        var opt = optim.AdamW(layer.parameters().ToArray(), lr: 3e-3);
        using var gen = new Generator(3);

        int expectedHeads = 1;
        var losses = new List<float>();
        long liveAtStart = 0;
        var inits = new[] { HeadInit.Random, HeadInit.FunctionPreserving };
        for (int step = 0; step < 300; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var x = randn(new long[] { 8, 6, d }, generator: gen);
                Tensor target;
                using (no_grad()) target = teacher.forward(x);
                opt.zero_grad();
                var loss = nn.functional.mse_loss(layer.forward(x), target);
                loss.backward();
                opt.step();
                losses.Add(loss.item<float>());

                if (step % 15 == 7)
                {
                    if (expectedHeads < 8 && (expectedHeads == 1 || rng.NextDouble() < 0.7))
                    {
                        HeadSurgery.AddHead(layer, opt, inits[rng.Next(2)]);
                        expectedHeads++;
                    }
                    else
                    {
                        HeadSurgery.RemoveHeads(layer, opt, new[] { rng.Next(expectedHeads) });
                        expectedHeads--;
                    }
                }
            }
            if (step == 20) liveAtStart = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        long liveAtEnd = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        float first = losses.Take(20).Average(), last = losses.TakeLast(20).Average();
        output.WriteLine($"loss first20={first:F5} last20={last:F5} heads={layer.HeadCount} live tensors {liveAtStart} -> {liveAtEnd}");
        layer.HeadCount.Should().Be(expectedHeads);
        last.Should().BeLessThan(0.5f * first, "the layer keeps learning through grow/prune events");
        liveAtEnd.Should().Be(liveAtStart, "surgery and training must not leak tensors");
    }
}
