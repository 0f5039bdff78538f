using FluentAssertions;
using Incrt.Attention;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

public class GrowableAttentionBadInputTests
{
    private static GrowableMultiHeadAttention Layer(int heads = 2, int maxHeads = 3) =>
        new(new AttentionOptions(8, HeadDim: 4, InitialHeads: heads, MaxHeads: maxHeads, Seed: 1));

    private static void Unchanged(GrowableMultiHeadAttention layer, Tensor[] before, int heads)
    {
        layer.HeadCount.Should().Be(heads);
        layer.PerHeadParameters.Zip(before).Should().OnlyContain(p => p.First.Same(p.Second));
    }

    private static Tensor[] Snap(GrowableMultiHeadAttention layer) => layer.PerHeadParameters.Select(p => p.detach().clone()).ToArray();

    [Theory]
    [InlineData(new long[] { 5, 8 }, "rank 2")]
    [InlineData(new long[] { 2, 5, 7 }, "wrong width")]
    [InlineData(new long[] { 0, 5, 8 }, "empty batch")]
    [InlineData(new long[] { 2, 0, 8 }, "empty sequence")]
    public void Forward_rejects_badly_shaped_input_naming_x(long[] shape, string because)
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var act = () => layer.forward(zeros(shape));
        act.Should().Throw<ArgumentException>(because).Which.ParamName.Should().Be("x");
    }

    [Fact]
    public void Forward_rejects_the_wrong_dtype()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var act = () => layer.forward(zeros(new long[] { 2, 3, 8 }, ScalarType.Float64));
        act.Should().Throw<ArgumentException>().WithMessage("*Float64*").Which.ParamName.Should().Be("x");
    }

    [Theory]
    [InlineData("int mask")]
    [InlineData("wrong shape")]
    [InlineData("rank 3")]
    public void Forward_rejects_a_bad_padding_mask(string kind)
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var mask = kind switch
        {
            "int mask" => zeros(2, 3, ScalarType.Int64),
            "wrong shape" => zeros(new long[] { 2, 4 }, ScalarType.Bool),
            _ => zeros(new long[] { 2, 3, 1 }, ScalarType.Bool),
        };
        var act = () => layer.forward(zeros(2, 3, 8), mask);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("keyPaddingMask");
    }

    [Fact]
    public void Removing_a_missing_head_is_rejected_and_leaves_the_layer_unchanged()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var before = Snap(layer);
        layer.Invoking(l => l.RemoveHeads(new[] { 2 })).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("indices");
        layer.Invoking(l => l.RemoveHeads(new[] { -1 })).Should().Throw<ArgumentOutOfRangeException>();
        layer.Invoking(l => l.RemoveHeads(new[] { 0, 0 })).Should().Throw<ArgumentException>().WithMessage("*twice*");
        Unchanged(layer, before, 2);
    }

    [Fact]
    public void Removing_the_last_head_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var before = Snap(layer);
        layer.Invoking(l => l.RemoveHeads(new[] { 0, 1 })).Should().Throw<ArgumentException>().WithMessage("*at least one head*");
        Unchanged(layer, before, 2);
    }

    [Fact]
    public void Exceeding_max_heads_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(heads: 3, maxHeads: 3);
        var before = Snap(layer);
        layer.Invoking(l => l.AddHead(HeadInit.Random)).Should().Throw<InvalidOperationException>().WithMessage("*MaxHeads = 3*");
        Unchanged(layer, before, 3);
        layer.HeadIds.Should().Equal(0, 1, 2);
    }

    [Fact]
    public void NaN_in_an_eigen_seed_direction_is_rejected()
    {
        var u = new double[8]; u[1] = double.NaN;
        var act = () => HeadInit.EigenSeeded(u);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("direction");
    }

    [Fact]
    public void A_seed_direction_of_the_wrong_length_is_rejected_and_leaves_the_layer_unchanged()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var before = Snap(layer);
        layer.Invoking(l => l.AddHead(HeadInit.EigenSeeded(new double[] { 1, 0, 0 })))
            .Should().Throw<ArgumentException>().WithMessage("*d_model = 8*").Which.ParamName.Should().Be("init");
        Unchanged(layer, before, 2);
    }

    [Theory]
    [InlineData(0, 4, 1, 4, 0.0, "DModel")]
    [InlineData(8, 0, 1, 4, 0.0, "HeadDim")]
    [InlineData(8, 4, 5, 4, 0.0, "InitialHeads")]
    [InlineData(8, 4, 0, 4, 0.0, "InitialHeads")]
    [InlineData(8, 4, 1, 0, 0.0, "MaxHeads")]
    [InlineData(8, 4, 1, 4, 1.0, "Dropout")]
    [InlineData(8, 4, 1, 4, double.NaN, "Dropout")]
    public void Invalid_options_are_rejected_naming_the_field(long d, long dk, int initial, int max, double dropout, string field)
    {
        var act = () => new GrowableMultiHeadAttention(new AttentionOptions(d, dk, initial, max, dropout));
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(field);
    }

    [Fact]
    public void Calling_after_dispose_throws_ObjectDisposedException()
    {
        using var scope = NewDisposeScope();
        var layer = Layer();
        layer.Dispose();
        layer.Invoking(l => l.forward(zeros(1, 2, 8))).Should().Throw<ObjectDisposedException>();
        layer.Invoking(l => l.AddHead(HeadInit.Random)).Should().Throw<ObjectDisposedException>();
    }
}
