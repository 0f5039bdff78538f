using FluentAssertions;
using Incrt.Models;
using Incrt.Training;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Training;

/// <summary>The probe batch the trainer gives a loss-aware controller.</summary>
public class TrainingProbeTests
{
    [Fact]
    public void The_probe_scores_the_first_whole_batches_of_examples_regrouped_by_length_with_the_same_loss()
    {
        var rng = new Random(5);
        var sequences = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, rng.Next(1, 30)).Select(_ => rng.Next(1, 40)).ToArray()).ToArray();
        var labels = Enumerable.Range(0, 300).Select(i => i % 2).ToArray();
        var train = new LengthBucketBatcher(sequences, labels, batchSize: 16, seed: 1);

        var plan = train.PlanFirstByLength(100);
        plan.SelectMany(b => b).Should().BeEquivalentTo(Enumerable.Range(0, 112), "100 examples round up to 7 whole batches of 16, in input order");
        plan.Should().OnlyContain(b => b.Length == 16);
        var lengths = plan.SelectMany(b => b).Select(i => sequences[i].Length).ToList();
        lengths.Should().BeInAscendingOrder("batches of similar length pad less");

        manual_seed(3);
        using var model = new IncrtClassifier(new IncrtModelOptions(40, 32, DModel: 16, HeadDim: 4, Dropout: 0));
        Func<SequenceBatch, Tensor> forward = b => model.forward(b.Ids, b.KeyPaddingMask);
        using var probe = TrainingProbe.From(train, model, forward, null, 100);
        double inInputOrder = 0;
        using (no_grad())
        {
            model.eval();
            foreach (var batch in train.Evaluation().Take(7))
                using (batch)
                using (var scope = NewDisposeScope())
                    inInputOrder += nn.functional.cross_entropy(forward(batch), batch.Labels, reduction: nn.Reduction.Sum).item<float>();
            model.train();
        }
        probe.Loss().Should().BeApproximately(inInputOrder / 112, 1e-5, "regrouping changes the padding, not the examples");
        model.training.Should().BeTrue("the probe restores training mode");
    }
}
