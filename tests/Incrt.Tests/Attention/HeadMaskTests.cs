using FluentAssertions;
using Incrt.Attention;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

public class HeadMaskTests
{
    [Fact]
    public void Masking_a_head_gives_the_output_of_the_layer_without_that_head_and_disposing_restores_it()
    {
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 3, MaxHeads: 4, Seed: 2));
        using var pruned = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 3, MaxHeads: 4, Seed: 2));
        pruned.RemoveHeads(new[] { 1 });
        using var scope = NewDisposeScope();
        var x = randn(2, 5, 16);
        var full = layer.forward(x);

        using (layer.MaskHeads(new[] { 1 }))
        {
            layer.HasMaskedHeads.Should().BeTrue();
            layer.forward(x).allclose(pruned.forward(x), rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        }
        layer.HasMaskedHeads.Should().BeFalse();
        layer.forward(x).allclose(full).Should().BeTrue();
    }

    [Fact]
    public void Overlapping_masks_keep_a_head_masked_until_the_last_scope_ends_and_bad_indices_are_named()
    {
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 2, MaxHeads: 4, Seed: 2));
        var outer = layer.MaskHeads(new[] { 0 });
        using (layer.MaskHeads(new[] { 0, 1 })) layer.IsMasked(1).Should().BeTrue();
        layer.IsMasked(0).Should().BeTrue();
        layer.IsMasked(1).Should().BeFalse();
        outer.Dispose();
        layer.HasMaskedHeads.Should().BeFalse();

        var act = () => layer.MaskHeads(new[] { 2 });
        act.Should().Throw<ArgumentException>().WithMessage("*Head index 2*2 heads*");
    }
}
