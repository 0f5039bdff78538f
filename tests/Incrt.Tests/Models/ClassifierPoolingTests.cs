using FluentAssertions;
using Incrt.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Models;

public class ClassifierPoolingTests
{
    private static IncrtClassifier Model(Pooling pooling, double? attentionDropout = null) =>
        new(new IncrtModelOptions(VocabSize: 30, MaxLength: 12, DModel: 16, HeadDim: 4, InitialHeads: 3, Dropout: 0.0,
            Pooling: pooling, Classes: 3, Seed: 7, AttentionDropout: attentionDropout));

    [Theory]
    [InlineData(Pooling.MaskedMax)]
    [InlineData(Pooling.MaskedMean)]
    public void Padding_positions_do_not_change_the_logits(Pooling pooling)
    {
        manual_seed(1);
        using var model = Model(pooling);
        model.eval();
        using var ids = tensor(new long[] { 2, 5, 9, 4, 11, 6 }).reshape(1, 6);
        using var noMask = zeros(1, 6, dtype: ScalarType.Bool);
        using var padded = tensor(new long[] { 2, 5, 9, 4, 11, 6, 0, 0, 0, 0 }).reshape(1, 10);
        using var mask = tensor(new[] { false, false, false, false, false, false, true, true, true, true }).reshape(1, 10);

        using var expected = model.forward(ids, noMask);
        using var actual = model.forward(padded, mask);

        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue($"{pooling} must ignore padding");
    }

    [Fact]
    public void Max_pooling_keeps_a_single_motif_at_full_strength_where_mean_pooling_dilutes_it()
    {
        // The reason the SARS-CoV-2 sample reads out with a max: one mutated token among hundreds.
        using var h = zeros(1, 200, 4);
        h[0, 137, 2] = tensor(5f);
        using var mask = zeros(1, 200, dtype: ScalarType.Bool);
        using var max = IncrtClassifier.Pool(Pooling.MaskedMax, h, mask);
        using var mean = IncrtClassifier.Pool(Pooling.MaskedMean, h, mask);
        max[0, 2].item<float>().Should().Be(5f);
        mean[0, 2].item<float>().Should().BeApproximately(5f / 200, 1e-6f);
    }

    [Fact]
    public void Attention_dropout_defaults_to_the_model_dropout_and_can_be_set_apart()
    {
        var shared = new IncrtModelOptions(VocabSize: 30, MaxLength: 12, Dropout: 0.3);
        shared.Attention(0, null).Dropout.Should().Be(0.3);
        (shared with { AttentionDropout = 0.0 }).Attention(0, null).Dropout.Should().Be(0.0);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void An_attention_dropout_outside_0_to_1_is_rejected_by_name(double p)
    {
        var options = new IncrtModelOptions(VocabSize: 30, MaxLength: 12, AttentionDropout: p);
        options.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("AttentionDropout");
    }
}
