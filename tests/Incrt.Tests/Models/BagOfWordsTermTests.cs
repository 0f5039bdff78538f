using FluentAssertions;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Models;

/// <summary>The classifier's optional linear bag-of-words term (<see cref="IncrtModelOptions.BagOfWordsScale"/>).</summary>
public class BagOfWordsTermTests
{
    private static IncrtModelOptions Options(double scale) =>
        new(VocabSize: 50, MaxLength: 16, DModel: 16, HeadDim: 4, Dropout: 0, Pooling: Pooling.MaskedMean, Seed: 3, BagOfWordsScale: scale);

    private static (Tensor Ids, Tensor Mask) Batch()
    {
        var ids = tensor(new long[,] { { 1, 5, 7, 7, 9 }, { 1, 3, 4, 0, 0 } });
        return (ids, ids.eq(0));
    }

    [Fact]
    public void The_term_starts_at_zero_so_the_model_starts_as_the_transformer_alone()
    {
        manual_seed(4);
        using var plain = new IncrtClassifier(Options(0));
        manual_seed(4);
        using var wide = new IncrtClassifier(Options(3));
        plain.named_parameters().Select(p => p.name).Should().NotContain(n => n.StartsWith("bag_of_words"), "0 adds no parameter");
        wide.ParameterCount().Should().Be(plain.ParameterCount() + 50 * 2, "one row of class weights per token id");
        plain.eval();
        wide.eval();
        var (ids, mask) = Batch();
        using (ids) using (mask)
        using (var a = plain.forward(ids, mask))
        using (var b = wide.forward(ids, mask))
            a.allclose(b, rtol: 0, atol: 0).Should().BeTrue("the term is created last and zero, so nothing else changes");
    }

    [Fact]
    public void The_term_adds_the_scaled_sum_of_the_tokens_rows_and_padding_adds_nothing()
    {
        manual_seed(5);
        using var model = new IncrtClassifier(Options(2.5));
        model.eval();
        var (ids, mask) = Batch();
        using var _ = ids;
        using var __ = mask;
        using var before = model.forward(ids, mask);
        var table = model.named_parameters().Single(p => p.name == "bag_of_words.weight").parameter;
        using (no_grad())
        {
            table[7].copy_(tensor(new float[] { 1f, -2f }));
            table[3].copy_(tensor(new float[] { 0.5f, 0.25f }));
            table[0].fill_(0);
        }
        using var after = model.forward(ids, mask);
        using var expected = tensor(new float[,] { { 2.5f * 2 * 1f, 2.5f * 2 * -2f }, { 2.5f * 0.5f, 2.5f * 0.25f } });
        (after - before).allclose(expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue("token 7 appears twice in the first row, token 3 once in the second");
    }

    [Fact]
    public void A_checkpoint_keeps_the_term_and_a_bad_scale_is_rejected_naming_the_field()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "wide.incrt");
        manual_seed(6);
        using var model = new IncrtClassifier(Options(1));
        var table = model.named_parameters().Single(p => p.name == "bag_of_words.weight").parameter;
        using (no_grad()) table[9].fill_(0.75f);
        IncrtCheckpoint.Save(path, model);
        using var loaded = IncrtCheckpoint.Load(path).Model;
        loaded.Options.BagOfWordsScale.Should().Be(1);
        loaded.named_parameters().Single(p => p.name == "bag_of_words.weight").parameter[9].max().item<float>().Should().Be(0.75f);

        var bad = () => Options(-1).Validate();
        bad.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*BagOfWordsScale*");
        var nan = () => Options(double.NaN).Validate();
        nan.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*BagOfWordsScale*");
    }
}
