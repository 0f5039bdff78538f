using System.Text.Json;
using FluentAssertions;
using Incrt.Sst2;
using Incrt.Tasks.Data;
using Incrt.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Samples;

/// <summary>Masked-token pre-training of the SST-2 encoder on the training sentences (<c>--pretrain-steps</c>).</summary>
public class Sst2PretrainingTests
{
    [Fact]
    public void Corruption_chooses_only_word_tokens_masks_most_with_unk_and_keeps_the_original_ids_as_targets()
    {
        using var scope = NewDisposeScope();
        const long vocabulary = 500;
        using var generator = new Generator(7);
        // 64 sequences of [CLS] + 40 words + 9 padding positions, with a few [UNK]s among the words.
        var ids = randint(3, vocabulary, new long[] { 64, 50 }, generator: generator, dtype: ScalarType.Int64);
        ids[.., 0] = WordVocabulary.ClsId;
        ids[.., 41..] = WordVocabulary.PadId;
        ids[.., 5] = WordVocabulary.UnknownId;

        var (input, chosen, targets) = MaskedTokenPretraining.Corrupt(ids, vocabulary, generator);

        var words = ids.gt(WordVocabulary.ClsId);
        chosen.logical_and(words.logical_not()).any().item<bool>().Should().BeFalse("[PAD], [CLS] and [UNK] are never chosen");
        double share = chosen.sum().item<long>() / (double)words.sum().item<long>();
        share.Should().BeApproximately(MaskedTokenPretraining.ChosenFraction, 0.02);
        targets.Should().NotBeNull();
        targets.eq(ids.index(chosen)).all().item<bool>().Should().BeTrue("the targets are the words before corruption");
        using var kept = chosen.logical_not();
        input.index(kept).eq(ids.index(kept)).all().item<bool>().Should().BeTrue("only chosen positions change");
        double masked = input.index(chosen).eq(WordVocabulary.UnknownId).sum().item<long>() / (double)targets.shape[0];
        masked.Should().BeInRange(0.74, 0.86, "80% of the chosen words are replaced by the [UNK] mask");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_run_with_pretraining_reports_it_and_its_checkpoint_reloads(bool grow)
    {
        using var dir = Sst2DeepModelTests.Subset(400, 100);
        var outDir = Path.Combine(dir.Path, "out");
        var log = new StringWriter();
        var err = new StringWriter();
        Sst2App.Run(["--epochs", "1", "--batch-size", "16", "--d-model", "16", "--head-dim", "8", "--evals-per-epoch", "1",
                "--pretrain-steps", "30", .. (grow ? new[] { "--pretrain-grow" } : []), "--data", dir.Path, "--out", outDir], log, err, consoleLogging: false)
            .Should().Be(0, "the reloaded checkpoint must reproduce the dev accuracy");
        err.ToString().Should().BeEmpty();
        log.ToString().Should().Contain("[pretrain] step 30/30 masked-token loss");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var p = json.RootElement.GetProperty("pretraining");
        p.GetProperty("steps").GetInt64().Should().Be(30);
        double.IsFinite(p.GetProperty("finalLoss").GetDouble()).Should().BeTrue();
        p.GetProperty("growth").GetBoolean().Should().Be(grow);
        p.GetProperty("headsPerLayer").GetArrayLength().Should().Be(2, "one count per layer");
    }

    [Fact]
    public void Growth_during_pretraining_without_pretraining_steps_exits_2()
    {
        var err = new StringWriter();
        Sst2App.Run(["--pretrain-grow", "--data", "no-such-folder"], new StringWriter(), err, consoleLogging: false).Should().Be(2);
        err.ToString().Trim().Should().StartWith("error: --pretrain-grow").And.NotContain("\n");
    }

    [Theory]
    [InlineData("-1")]
    public void A_negative_pretraining_step_count_exits_2_naming_the_option(string value)
    {
        var err = new StringWriter();
        Sst2App.Run(["--pretrain-steps", value, "--data", "no-such-folder"], new StringWriter(), err, consoleLogging: false).Should().Be(2);
        err.ToString().Trim().Should().StartWith("error:").And.Contain("--pretrain-steps").And.NotContain("\n");
    }
}
