using FluentAssertions;
using Incrt.Tasks.Data;
using Incrt.Training;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Data;

/// <summary>The library's batcher on the real SST-2 training file (the data lives outside the repository).</summary>
public class LengthBucketBatcherSst2Tests(ITestOutputHelper output)
{
    [Fact]
    public void Length_bucketing_reduces_padding_on_sst2_compared_with_random_batching()
    {
        var folder = DataPaths.Resolve();
        var train = LabeledTextTsv.Read(DataPaths.Sst2File(folder, "train"));
        var vocab = WordVocabulary.Build(train.Select(r => r.Text), minFrequency: 2);
        var seqs = train.Select(r => vocab.Encode(r.Text, 64, addCls: true)).ToArray();
        var labels = train.Select(r => r.Label).ToArray();
        var bucketed = new LengthBucketBatcher(seqs, labels, 32, seed: 1);
        var random = new LengthBucketBatcher(seqs, labels, 32, seed: 1, bucketByLength: false);
        long tokens = seqs.Sum(s => (long)s.Length);
        long padBucketed = bucketed.PaddingCount(bucketed.PlanEpoch(0));
        long padRandom = random.PaddingCount(random.PlanEpoch(0));
        output.WriteLine($"SST-2 train, batch 32: real tokens {tokens}, padding random {padRandom} ({100.0 * padRandom / tokens:F1}%), bucketed {padBucketed} ({100.0 * padBucketed / tokens:F1}%)");
        padBucketed.Should().BeLessThan(padRandom / 10);
    }
}
