using FluentAssertions;
using Incrt.Attention;
using Incrt.Models;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Models;

/// <summary>The block layouts: post-norm LN(X + Attn(X)) (default) and pre-norm X + Attn(LN(X)).</summary>
public class PreNormBlockTests
{
    private static AttentionOptions Options => new(DModel: 8, HeadDim: 2, InitialHeads: 3, MaxHeads: 8, Dropout: 0, Seed: 5);

    [Fact]
    public void Pre_norm_block_adds_attention_of_the_normalised_input_to_the_unnormalised_input()
    {
        manual_seed(3);
        using var block = new IncrtBlock(Options, feedForward: 0, dropout: 0, preNorm: true);
        block.eval();
        using var x = randn(2, 5, 8) * 3 + 1;
        using var norm = nn.LayerNorm(8);
        using var expected = x + block.Attention.forward(norm.call(x), null);
        using var actual = block.forward(x);
        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        block.PreNorm.Should().BeTrue();
    }

    [Fact]
    public void Post_norm_block_stays_the_default_and_normalises_its_output()
    {
        manual_seed(3);
        using var block = new IncrtBlock(Options, feedForward: 0, dropout: 0);
        block.eval();
        using var x = randn(2, 5, 8) * 3 + 1;
        using var y = block.forward(x);
        block.PreNorm.Should().BeFalse();
        y.mean(new long[] { -1 }).abs().max().item<float>().Should().BeLessThan(1e-4f, "LN output has zero mean per token");
        new IncrtModelOptions(10, 5).PreNorm.Should().BeFalse();
    }

    [Fact]
    public void Pre_norm_encoder_output_is_not_normalised()
    {
        manual_seed(4);
        using var encoder = new IncrtEncoder(new IncrtModelOptions(10, 5, DModel: 8, HeadDim: 2, Dropout: 0, PreNorm: true));
        encoder.eval();
        using var ids = randint(1, 10, new long[] { 3, 5 }, dtype: ScalarType.Int64);
        using var y = encoder.forward(ids);
        y.mean(new long[] { -1 }).abs().max().item<float>().Should().BeGreaterThan(1e-3f);
    }
}
