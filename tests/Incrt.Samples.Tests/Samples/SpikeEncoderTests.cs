using FluentAssertions;
using Incrt.Models;
using Incrt.SarsCov2;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Samples;

/// <summary>Scoring spikes with a trained SARS-CoV-2 model.</summary>
public class SpikeEncoderTests
{
    [Fact]
    public void A_sequence_longer_than_the_models_position_table_is_cut_to_it_when_scored()
    {
        var train = new[] { new SpikeRecord("a", "A", "ACDEFGHIKL"), new SpikeRecord("b", "B", "LKIHGFEDCA") };
        var tokenizer = KmerTokenizer.Fit(train.Select(r => r.Sequence), k: 3, stride: 3);
        var encoder = new SpikeEncoder(tokenizer, 64, ["A", "B"]);
        int trainedLength = encoder.Encode(train).Sequences.Max(s => s.Length);               // [CLS] + 3 k-mers
        using var model = new IncrtClassifier(new IncrtModelOptions(tokenizer.VocabularySize, trainedLength, DModel: 8, HeadDim: 4, Classes: 2));
        var longer = new[] { new SpikeRecord("c", "A", "ACDEFGHIKLMNPQRSTVWY") };                // 7 k-mers: longer than the table

        var metrics = encoder.Score(model, longer, batchSize: 4, seed: 1, device: null);

        metrics.Should().NotBeNull("the long sequence is cut to the position table instead of failing after training");
        encoder.Truncated.Should().Be(1);
    }
}
