using FluentAssertions;
using Incrt.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Data;

public class LengthBucketBatcherTests
{
    /// <summary>Sequences with lengths 1..40 spread randomly; token j of sequence i is 1000*i + j + 3 so rows are identifiable.</summary>
    private static (int[][] Sequences, int[] Labels) Toy(int n, int seed = 7)
    {
        var rng = new Random(seed);
        var seqs = new int[n][];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            seqs[i] = Enumerable.Range(0, rng.Next(1, 41)).Select(j => 1000 * i + j + 3).ToArray();
            labels[i] = i % 2;
        }
        return (seqs, labels);
    }

    [Fact]
    public void Every_example_appears_exactly_once_per_epoch()
    {
        var (seqs, labels) = Toy(1003);
        var batcher = new LengthBucketBatcher(seqs, labels, batchSize: 16, seed: 1, bucketBatches: 5);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var plan = batcher.PlanEpoch(epoch);
            plan.Should().HaveCount(batcher.BatchesPerEpoch).And.HaveCount(63);
            plan.SelectMany(b => b).Order().Should().Equal(Enumerable.Range(0, 1003));
            plan.Count(b => b.Length != 16).Should().Be(1);
        }
        var dropping = new LengthBucketBatcher(seqs, labels, 16, 1, dropLast: true);
        dropping.PlanEpoch(0).Should().HaveCount(62).And.OnlyContain(b => b.Length == 16);
    }

    [Fact]
    public void Batches_hold_padded_ids_masks_matching_lengths_and_labels()
    {
        using var scope = NewDisposeScope();
        var (seqs, labels) = Toy(203);
        var batcher = new LengthBucketBatcher(seqs, labels, batchSize: 32, seed: 3, device: CPU);
        var seen = new List<int>();
        foreach (var batch in batcher.Epoch(0))
        {
            using var _ = batch;
            int b = batch.Size, t = batch.PaddedLength;
            batch.Ids.dtype.Should().Be(ScalarType.Int64);
            batch.KeyPaddingMask.dtype.Should().Be(ScalarType.Bool);
            batch.Labels.dtype.Should().Be(ScalarType.Int64);
            batch.Ids.shape.Should().Equal(b, t);
            batch.KeyPaddingMask.shape.Should().Equal(b, t);
            batch.Labels.shape.Should().Equal(b);
            batch.Ids.device_type.Should().Be(DeviceType.CPU);
            t.Should().Be(batch.Lengths.Max());
            var ids = batch.Ids.data<long>().ToArray();
            var mask = batch.KeyPaddingMask.data<bool>().ToArray();
            var lab = batch.Labels.data<long>().ToArray();
            for (int r = 0; r < b; r++)
            {
                var src = seqs[batch.Indices[r]];
                batch.Lengths[r].Should().Be(src.Length);
                ids.Skip(r * t).Take(t).Should().Equal(src.Select(x => (long)x).Concat(Enumerable.Repeat(0L, t - src.Length)));
                mask.Skip(r * t).Take(t).Should().Equal(Enumerable.Range(0, t).Select(j => j >= src.Length));
                lab[r].Should().Be(labels[batch.Indices[r]]);
            }
            batch.KeyPaddingMask.sum().item<long>().Should().Be(batch.PaddingCount);
            seen.AddRange(batch.Indices);
        }
        seen.Order().Should().Equal(Enumerable.Range(0, 203));
    }

    [Fact]
    public void Disposing_a_batch_releases_its_tensors()
    {
        using var scope = NewDisposeScope();
        var (seqs, labels) = Toy(10);
        var batch = new LengthBucketBatcher(seqs, labels, 4, 0).Epoch(0).First();
        batch.Dispose();
        batch.Ids.IsInvalid.Should().BeTrue();
        batch.KeyPaddingMask.IsInvalid.Should().BeTrue();
        batch.Labels.IsInvalid.Should().BeTrue();
    }

    [Fact]
    public void Same_seed_and_epoch_give_the_same_batches_and_others_differ()
    {
        var (seqs, labels) = Toy(500);
        var a = new LengthBucketBatcher(seqs, labels, 20, seed: 42, bucketBatches: 5);
        var b = new LengthBucketBatcher(seqs, labels, 20, seed: 42, bucketBatches: 5);
        var c = new LengthBucketBatcher(seqs, labels, 20, seed: 43, bucketBatches: 5);
        static string Key(IReadOnlyList<int[]> plan) => string.Join("|", plan.Select(x => string.Join(",", x)));
        Key(a.PlanEpoch(3)).Should().Be(Key(b.PlanEpoch(3)));
        Key(a.PlanEpoch(3)).Should().NotBe(Key(a.PlanEpoch(4)));
        Key(a.PlanEpoch(3)).Should().NotBe(Key(c.PlanEpoch(3)));

        using var scope = NewDisposeScope();
        var first = a.Epoch(3).First();
        var again = b.Epoch(3).First();
        first.Ids.data<long>().ToArray().Should().Equal(again.Ids.data<long>().ToArray());
        first.Labels.data<long>().ToArray().Should().Equal(again.Labels.data<long>().ToArray());
    }

    [Fact]
    public void Evaluation_iterates_in_input_order_without_shuffling()
    {
        var (seqs, labels) = Toy(70);
        var batcher = new LengthBucketBatcher(seqs, labels, 32, seed: 9);
        batcher.PlanEvaluation().Select(b => b.Length).Should().Equal(32, 32, 6);
        batcher.PlanEvaluation().SelectMany(b => b).Should().Equal(Enumerable.Range(0, 70));
        using var scope = NewDisposeScope();
        batcher.Evaluation().SelectMany(b => b.Indices).Should().Equal(Enumerable.Range(0, 70));
    }

    [Fact]
    public void Invalid_inputs_are_rejected()
    {
        var ok = new[] { new[] { 3, 4 } };
        var mismatched = () => new LengthBucketBatcher(ok, [0, 1], 4, 0);
        mismatched.Should().Throw<ArgumentException>().WithMessage("*1 sequences but 2 labels*");
        var empty = () => new LengthBucketBatcher([[]], [0], 4, 0);
        empty.Should().Throw<ArgumentException>().WithMessage("*Sequence 0 is empty*");
        var badSize = () => new LengthBucketBatcher(ok, [0], 0, 0);
        badSize.Should().Throw<ArgumentOutOfRangeException>();
    }
}
