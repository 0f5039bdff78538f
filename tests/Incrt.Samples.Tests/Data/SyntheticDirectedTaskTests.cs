using FluentAssertions;
using Incrt.Tasks.Data;
using Incrt.Training;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Data;

public class SyntheticDirectedTaskTests(ITestOutputHelper output)
{
    private static readonly SyntheticTaskOptions Small = new()
    {
        Relations = 5, VocabularySize = 40, SequenceLength = 16, MinSequenceLength = 10, Decoys = 2, DModel = 16, Seed = 11,
    };

    [Fact]
    public void Relations_use_distinct_non_special_tokens_and_fillers_are_the_rest()
    {
        var task = new SyntheticDirectedTask(Small);
        var relationTokens = task.Relations.SelectMany(r => new[] { r.Source, r.Target }).ToArray();
        relationTokens.Should().OnlyHaveUniqueItems().And.HaveCount(10).And.OnlyContain(t => t >= 3 && t < 40);
        task.FillerTokens.Concat(relationTokens).Order().Should().Equal(Enumerable.Range(3, 37));
    }

    [Fact]
    public void Same_options_and_split_seed_give_identical_data_and_other_split_seeds_differ()
    {
        var a = new SyntheticDirectedTask(Small).Generate(200, splitSeed: 1);
        var b = new SyntheticDirectedTask(Small).Generate(200, splitSeed: 1);
        var c = new SyntheticDirectedTask(Small).Generate(200, splitSeed: 2);
        new SyntheticDirectedTask(Small).Relations.Should().Equal(new SyntheticDirectedTask(Small).Relations);
        a.Sequences.Zip(b.Sequences).Should().OnlyContain(p => p.First.SequenceEqual(p.Second));
        a.Labels.Should().Equal(b.Labels);
        a.Sequences.Zip(c.Sequences).Count(p => p.First.SequenceEqual(p.Second)).Should().BeLessThan(5);
        new SyntheticDirectedTask(Small with { Seed = 12 }).Relations.Should().NotEqual(new SyntheticDirectedTask(Small).Relations);
    }

    [Theory]
    [InlineData(SyntheticLabelRule.SingleRelation)]
    [InlineData(SyntheticLabelRule.Majority)]
    public void Sequences_have_the_planted_structure_and_clean_labels_follow_the_rule(SyntheticLabelRule rule)
    {
        var task = new SyntheticDirectedTask(Small with { Rule = rule });
        var data = task.Generate(500, 1);
        for (int i = 0; i < data.Count; i++)
        {
            var s = data.Sequences[i];
            s[0].Should().Be(WordVocabulary.ClsId);
            s.Length.Should().BeInRange(11, 17);
            s.Skip(1).Should().OnlyContain(t => t >= 3);
            task.CleanLabelOf(s).Should().Be(data.CleanLabels[i]);
            data.Labels[i].Should().Be(data.CleanLabels[i], "there is no label noise");
            int present = data.Orientations[i].Count(o => o != 0);
            present.Should().Be(rule == SyntheticLabelRule.SingleRelation ? 1 : 5);
        }
    }

    [Theory]
    [InlineData(SyntheticLabelRule.SingleRelation)]
    [InlineData(SyntheticLabelRule.Majority)]
    public void Reversing_the_planted_pairs_keeps_the_token_multiset_but_flips_the_label(SyntheticLabelRule rule)
    {
        var task = new SyntheticDirectedTask(Small with { Rule = rule });
        var data = task.Generate(300, 5);
        foreach (var s in data.Sequences)
        {
            var reversed = (int[])s.Clone();
            foreach (var (a, b) in task.Relations)
            {
                int pa = Array.IndexOf(reversed, a), pb = Array.IndexOf(reversed, b);
                if (pa >= 0 && pb >= 0) (reversed[pa], reversed[pb]) = (b, a);
            }
            reversed.Order().Should().Equal(s.Order());
            task.CleanLabelOf(reversed).Should().Be(1 - task.CleanLabelOf(s));
        }
    }

    [Theory]
    [InlineData(SyntheticLabelRule.SingleRelation)]
    [InlineData(SyntheticLabelRule.Majority)]
    public void Bag_of_words_logistic_regression_is_at_chance_while_order_features_solve_the_task(SyntheticLabelRule rule)
    {
        var options = Small with { Rule = rule };
        var task = new SyntheticDirectedTask(options);
        var train = task.Generate(3000, 1);
        var test = task.Generate(2000, 2);
        double[] BagOfWords(int[] s)
        {
            var f = new double[options.VocabularySize];
            foreach (var t in s) f[t] += 1;
            return f;
        }
        double[] OrderFeatures(int[] s) =>
            task.Relations.Select(r =>
            {
                int pa = Array.IndexOf(s, r.Source), pb = Array.IndexOf(s, r.Target);
                return pa >= 0 && pb >= 0 ? (pa < pb ? 1.0 : -1.0) : 0.0;
            }).ToArray();

        double bowTest = LogisticAccuracy(train, test, BagOfWords, out double bowTrain);
        double orderTest = LogisticAccuracy(train, test, OrderFeatures, out _);
        output.WriteLine($"{rule}: bag-of-words train {bowTrain:F3} test {bowTest:F3}; order features test {orderTest:F3}");
        bowTest.Should().BeInRange(0.45, 0.55, "token counts carry no label information");
        orderTest.Should().BeGreaterThan(0.97, "the per-relation order determines the label");
    }

    [Fact]
    public void Decoys_defeat_a_single_generic_source_before_target_detector()
    {
        var task = new SyntheticDirectedTask(Small with { Decoys = 3 });
        var data = task.Generate(4000, 3);
        var sources = task.Relations.Select(r => r.Source).ToHashSet();
        var targets = task.Relations.Select(r => r.Target).ToHashSet();
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            // Generic detector: (#source-before-target pairs) - (#target-before-source pairs), any relation.
            var s = data.Sequences[i];
            int score = 0;
            for (int p = 0; p < s.Length; p++)
                for (int q = p + 1; q < s.Length; q++)
                {
                    if (sources.Contains(s[p]) && targets.Contains(s[q])) score++;
                    if (targets.Contains(s[p]) && sources.Contains(s[q])) score--;
                }
            int prediction = score > 0 ? 1 : score < 0 ? 0 : (i & 1);
            if (prediction == data.Labels[i]) correct++;
        }
        double accuracy = correct / (double)data.Count;
        output.WriteLine($"generic detector accuracy with 3 decoys: {accuracy:F3}");
        accuracy.Should().BeLessThan(0.8, "a relation-agnostic direction detector must not solve the task");
    }

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.3, 0.0)]
    [InlineData(0.3, 0.1)]
    public void Label_balance_matches_the_option(double positiveFraction, double noise)
    {
        var options = Small with { PositiveFraction = positiveFraction, LabelNoise = noise };
        var data = new SyntheticDirectedTask(options).Generate(10_000, 4);
        data.CleanLabels.Average().Should().BeApproximately(positiveFraction, 1e-4);
        data.Labels.Average().Should().BeApproximately(options.ExpectedObservedPositiveFraction, 0.015);
        double flipped = data.Labels.Zip(data.CleanLabels).Count(p => p.First != p.Second) / 10_000.0;
        flipped.Should().BeApproximately(noise, 0.01);
    }

    [Fact]
    public void Interaction_matrix_is_the_sum_of_planted_outer_products_and_is_directed()
    {
        var task = new SyntheticDirectedTask(Small);
        var e = task.TokenVectors;
        var m = task.InteractionMatrix();
        int d = Small.DModel;
        var (a0, b0) = task.Relations[0];
        double expected = task.Relations.Sum(r => (double)e[r.Source, 1] * e[r.Target, 2]);
        m[1, 2].Should().BeApproximately((float)expected, 1e-5f);
        double asym = 0, total = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                asym += Math.Pow(m[i, j] - m[j, i], 2) / 4;
                total += m[i, j] * m[i, j];
            }
        (asym / total).Should().BeGreaterThan(0.2, "random source/target vectors give a strongly non-symmetric form");
        e[a0, 0].Should().NotBe(e[b0, 0]);
    }

    [Fact]
    public void Synthetic_data_feeds_the_batcher()
    {
        using var scope = NewDisposeScope();
        var data = new SyntheticDirectedTask(Small).Generate(100, 1);
        var batcher = new LengthBucketBatcher(data.Sequences, data.Labels, 16, seed: 0);
        var batches = batcher.Epoch(0).ToList();
        batches.Sum(b => b.Size).Should().Be(100);
        batches.Should().OnlyContain(b => b.PaddedLength <= 17);
        foreach (var b in batches) b.Dispose();
    }

    [Theory]
    [InlineData(0, 40, 16, 0.0, 0.5, SyntheticLabelRule.SingleRelation, "Relations")]
    [InlineData(4, 40, 16, 0.0, 0.5, SyntheticLabelRule.Majority, "odd")]
    [InlineData(5, 13, 16, 0.0, 0.5, SyntheticLabelRule.SingleRelation, "VocabularySize")]
    [InlineData(5, 40, 3, 0.0, 0.5, SyntheticLabelRule.SingleRelation, "cannot hold")]
    [InlineData(5, 40, 16, 0.5, 0.5, SyntheticLabelRule.SingleRelation, "LabelNoise")]
    [InlineData(5, 40, 16, 0.0, 1.0, SyntheticLabelRule.SingleRelation, "PositiveFraction")]
    public void Invalid_options_are_rejected_with_the_reason(int k, int vocab, int length, double noise, double positive, SyntheticLabelRule rule, string reason)
    {
        var act = () => new SyntheticDirectedTask(new SyntheticTaskOptions
        {
            Relations = k, VocabularySize = vocab, SequenceLength = length, LabelNoise = noise, PositiveFraction = positive, Rule = rule,
        });
        act.Should().Throw<ArgumentException>().WithMessage($"*{reason}*");
    }

    /// <summary>Full-batch gradient-descent logistic regression on standardised features; returns held-out accuracy.</summary>
    private static double LogisticAccuracy(SyntheticDataset train, SyntheticDataset test, Func<int[], double[]> features, out double trainAccuracy)
    {
        var xs = train.Sequences.Select(features).ToArray();
        var xt = test.Sequences.Select(features).ToArray();
        int d = xs[0].Length, n = xs.Length;
        var mean = new double[d];
        var std = new double[d];
        for (int j = 0; j < d; j++)
        {
            mean[j] = xs.Average(x => x[j]);
            std[j] = Math.Sqrt(xs.Average(x => (x[j] - mean[j]) * (x[j] - mean[j]))) + 1e-8;
        }
        double[] Norm(double[] x) => x.Select((v, j) => (v - mean[j]) / std[j]).ToArray();
        xs = xs.Select(Norm).ToArray();
        xt = xt.Select(Norm).ToArray();
        var w = new double[d];
        double bias = 0;
        var grad = new double[d];
        for (int it = 0; it < 300; it++)
        {
            Array.Clear(grad);
            double gb = 0;
            for (int i = 0; i < n; i++)
            {
                double z = bias;
                for (int j = 0; j < d; j++) z += w[j] * xs[i][j];
                double err = 1 / (1 + Math.Exp(-z)) - train.Labels[i];
                for (int j = 0; j < d; j++) grad[j] += err * xs[i][j];
                gb += err;
            }
            for (int j = 0; j < d; j++) w[j] -= 0.5 * grad[j] / n;
            bias -= 0.5 * gb / n;
        }
        double Accuracy(double[][] x, IReadOnlyList<int> y) =>
            x.Select((row, i) => (bias + row.Select((v, j) => v * w[j]).Sum() > 0 ? 1 : 0) == y[i] ? 1.0 : 0.0).Average();
        trainAccuracy = Accuracy(xs, train.Labels);
        return Accuracy(xt, test.Labels);
    }
}
