using FluentAssertions;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Models;

/// <summary>The embedding options: the initial draw's scale (<see cref="IncrtModelOptions.EmbeddingStd"/>) and word
/// dropout (<see cref="IncrtModelOptions.TokenDropout"/>).</summary>
public class EmbeddingRegularisationTests
{
    private static IncrtModelOptions Options(double? std = null, double tokenDropout = 0) =>
        new(VocabSize: 500, MaxLength: 64, DModel: 32, HeadDim: 8, Dropout: 0, Seed: 3, EmbeddingStd: std, TokenDropout: tokenDropout);

    private static float Std(Tensor t) => t.std().item<float>();

    [Fact]
    public void Embedding_std_sets_the_scale_of_token_and_position_tables_and_keeps_the_padding_row_zero()
    {
        manual_seed(1);
        using var encoder = new IncrtEncoder(Options(std: 0.02));
        var tables = encoder.named_parameters().Where(p => p.name.EndsWith("emb.weight")).ToDictionary(p => p.name, p => p.parameter);
        tables.Should().HaveCount(2);
        using var tokens = tables["tok_emb.weight"][TensorIndex.Slice(1)];
        Std(tokens).Should().BeApproximately(0.02f, 0.002f);
        Std(tables["pos_emb.weight"]).Should().BeApproximately(0.02f, 0.004f);
        tables["tok_emb.weight"][0].abs().sum().item<float>().Should().Be(0f, "id 0 is padding");

        manual_seed(1);
        using var defaultEncoder = new IncrtEncoder(Options());
        Std(defaultEncoder.named_parameters().Single(p => p.name == "tok_emb.weight").parameter).Should().BeApproximately(1f, 0.05f, "null keeps PyTorch's N(0, 1)");
    }

    [Fact]
    public void Token_dropout_acts_only_in_training_and_leaves_evaluation_unchanged()
    {
        manual_seed(2);
        using var plain = new IncrtEncoder(Options());
        manual_seed(2);
        using var dropping = new IncrtEncoder(Options(tokenDropout: 0.5));
        using var ids = randint(1, 500, new long[] { 4, 12 }, dtype: ScalarType.Int64);

        plain.eval();
        dropping.eval();
        using (var a = plain.forward(ids))
        using (var b = dropping.forward(ids))
            a.allclose(b, rtol: 0, atol: 0).Should().BeTrue("evaluation never drops tokens, and the option does not change the initial weights");

        plain.train();
        dropping.train();
        using var c = plain.forward(ids);
        using var d = dropping.forward(ids);
        c.allclose(d, rtol: 1e-4, atol: 1e-5).Should().BeFalse("in training about half of the tokens lose their vectors");
    }

    [Fact]
    public void Token_dropout_zeroes_whole_token_vectors_so_a_fully_dropped_sentence_reads_as_positions_only()
    {
        // With p close to 1 every token vector is dropped (seeded draw), so two different sentences of the same length
        // give the same output: only the position embeddings are left.
        manual_seed(4);
        using var encoder = new IncrtEncoder(Options(tokenDropout: 0.9999));
        encoder.train();
        using var first = tensor(new long[] { 5, 6, 7, 8 }).unsqueeze(0);
        using var second = tensor(new long[] { 9, 10, 11, 12 }).unsqueeze(0);
        using var a = encoder.forward(first);
        using var b = encoder.forward(second);
        a.allclose(b, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
    }

    [Theory]
    [InlineData(0.0, 0.0, "EmbeddingStd")]
    [InlineData(double.NaN, 0.0, "EmbeddingStd")]
    [InlineData(null, 1.0, "TokenDropout")]
    [InlineData(null, -0.1, "TokenDropout")]
    public void Bad_embedding_options_are_rejected_naming_the_field(double? std, double tokenDropout, string field)
    {
        var act = () => Options(std, tokenDropout).Validate();
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(field);
    }

    [Fact]
    public void A_checkpoint_keeps_the_embedding_options_so_a_resumed_run_trains_the_same_way()
    {
        using var dir = new TempDirectory();
        var options = Options(std: 0.02, tokenDropout: 0.1) with { Classes = 3 };
        using var model = new IncrtClassifier(options);
        string path = Path.Combine(dir.Path, "model.incrt");
        IncrtCheckpoint.Save(path, model);
        using var loaded = IncrtCheckpoint.Load(path).Model;
        loaded.Options.EmbeddingStd.Should().Be(0.02);
        loaded.Options.TokenDropout.Should().Be(0.1);
    }
}
