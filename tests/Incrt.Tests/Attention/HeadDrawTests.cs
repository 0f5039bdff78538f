using FluentAssertions;
using Incrt.Attention;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

/// <summary>Where grown heads are drawn (<see cref="AttentionOptions.NewHeads"/>): the CPU generator, or on the device
/// from a counter (<see cref="CounterNormals"/>), both seeded by the layer's generator.</summary>
public class HeadDrawTests
{
    private static Tensor InProj(GrowableMultiHeadAttention layer) => layer.PerHeadParameters[0].detach();
    private static Tensor OutProj(GrowableMultiHeadAttention layer) => layer.PerHeadParameters[^1].detach();
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Counter_normals_are_standard_normal_and_depend_only_on_seed_and_shape()
    {
        using var scope = NewDisposeScope();
        var z = CounterNormals.Draw(new long[] { 400, 500 }, seed: 12345, CPU);
        z.dtype.Should().Be(ScalarType.Float64);
        z.shape.Should().Equal(400, 500);
        var flat = z.flatten();
        flat.mean().item<double>().Should().BeApproximately(0, 0.01);          // σ/√n = 0.0022
        flat.std().item<double>().Should().BeApproximately(1, 0.01);
        (flat.abs() > 1.959964).to(ScalarType.Float64).mean().item<double>().Should().BeApproximately(0.05, 0.003);
        (flat.pow(4).mean().item<double>()).Should().BeApproximately(3, 0.1, "a normal's fourth moment is 3");
        // neighbours are uncorrelated (one counter per element, no shared state between them)
        var lag = (flat.narrow(0, 0, flat.shape[0] - 1) * flat.narrow(0, 1, flat.shape[0] - 1)).mean().item<double>();
        lag.Should().BeApproximately(0, 0.01);

        Same(CounterNormals.Draw(new long[] { 400, 500 }, 12345, CPU), z).Should().BeTrue("the same seed and shape give the same draw");
        var other = CounterNormals.Draw(new long[] { 400, 500 }, 12346, CPU);
        (other - z).abs().max().item<double>().Should().BeGreaterThan(1, "a neighbouring seed gives an unrelated draw");
        ((other * z).mean().item<double>()).Should().BeApproximately(0, 0.01);
    }

    [Fact]
    public void An_odd_sized_counter_draw_is_the_prefix_of_the_next_even_one_and_one_hash_feeds_two_independent_normals()
    {
        using var scope = NewDisposeScope();
        var odd = CounterNormals.Draw(new long[] { 3, 333 }, seed: 7, CPU);
        var even = CounterNormals.Draw(new long[] { 1000 }, seed: 7, CPU);
        odd.shape.Should().Equal(3, 333);
        Same(odd.flatten(), even.narrow(0, 0, 999)).Should().BeTrue("the pair count is the same, only the last sine is cut");
        // r·cos θ and r·sin θ of the same hash sit half a draw apart: uncorrelated, and so are their squares.
        var big = CounterNormals.Draw(new long[] { 200_000 }, seed: 3, CPU);
        var (c, s) = (big.narrow(0, 0, 100_000), big.narrow(0, 100_000, 100_000));
        (c * s).mean().item<double>().Should().BeApproximately(0, 0.01);
        ((c * c - 1) * (s * s - 1)).mean().item<double>().Should().BeApproximately(0, 0.03);
    }

    [Fact]
    public void Auto_on_the_cpu_draws_grown_heads_from_the_cpu_generator_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        using var auto = new GrowableMultiHeadAttention(new AttentionOptions(32, HeadDim: 8, Seed: 5));
        using var cpu = new GrowableMultiHeadAttention(new AttentionOptions(32, HeadDim: 8, Seed: 5, NewHeads: HeadDraw.CpuGenerator));
        auto.AddHead(HeadInit.Random); cpu.AddHead(HeadInit.Random);
        Same(InProj(auto), InProj(cpu)).Should().BeTrue();
        Same(OutProj(auto), OutProj(cpu)).Should().BeTrue();
    }

    [Fact]
    public void On_device_growth_keeps_existing_heads_has_the_init_scale_and_is_reproducible_after_a_generator_restore()
    {
        using var scope = NewDisposeScope();
        const long d = 256, dk = 64;
        var options = new AttentionOptions(d, HeadDim: dk, Seed: 9, NewHeads: HeadDraw.OnDevice);
        using var a = new GrowableMultiHeadAttention(options);
        using var b = new GrowableMultiHeadAttention(options with { NewHeads = HeadDraw.CpuGenerator });
        var firstHead = InProj(a).clone();
        Same(firstHead, InProj(b)).Should().BeTrue("the heads present at construction always come from the CPU generator");

        var state = a.ExportGeneratorState();
        a.AddHead(HeadInit.Random); b.AddHead(HeadInit.Random);
        var grown = InProj(a)[1].clone();
        Same(InProj(a)[0], firstHead[0]).Should().BeTrue("growth keeps the existing head bit-identical");
        Same(grown, InProj(b)[1]).Should().BeFalse("the on-device draw is not the CPU generator's");
        grown.std().item<float>().Should().BeApproximately((float)(1 / Math.Sqrt(d)), 0.002f, "σ_QKV = 1/√d");
        OutProj(a)[1].std().item<float>().Should().BeApproximately((float)(1 / Math.Sqrt(dk)), 0.005f, "σ_O = 1/√d_k");

        // A resumed run restores the generator: its next grown head is the same draw.
        a.RemoveHeads(new[] { 1 });
        a.ImportGeneratorState(state);
        a.AddHead(HeadInit.Random);
        Same(InProj(a)[1], grown).Should().BeTrue();
    }

    [Fact]
    public void An_undefined_head_draw_is_rejected_naming_the_option()
    {
        var act = () => new AttentionOptions(16, NewHeads: (HeadDraw)7).Validate();
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("NewHeads");
    }
}
