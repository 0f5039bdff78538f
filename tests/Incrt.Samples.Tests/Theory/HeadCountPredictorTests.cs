using FluentAssertions;
using Incrt.Control;
using Incrt.Models;
using Incrt.Tasks.Data;
using Incrt.Theory;
using Incrt.Training;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Theory;

public class HeadCountPredictorTests
{
    private static (IncrtClassifier Model, LengthBucketBatcher Batches) Setup(int relations = 2, ulong seed = 1)
    {
        var task = new SyntheticDirectedTask(new SyntheticTaskOptions { Relations = relations, VocabularySize = 40, SequenceLength = 12, Seed = 3 });
        var data = task.Generate(256, 1);
        var model = new IncrtClassifier(new IncrtModelOptions(40, 16, DModel: 16, HeadDim: 4, Dropout: 0.0, Seed: seed));
        return (model, new LengthBucketBatcher(data.Sequences, data.Labels, 32, 1));
    }

    private static HeadCountPrediction Predict(IncrtClassifier model, LengthBucketBatcher batches, ControllerOptions? options = null)
    {
        var list = batches.Epoch(0).ToList();
        try { return HeadCountPredictor.Predict(model, list, options ?? new ControllerOptions { CalibrationCalls = 4 }); }
        finally { foreach (var b in list) b.Dispose(); }
    }

    [Fact]
    public void Participation_ratio_counts_equally_strong_components()
    {
        HeadCountPredictor.ParticipationRatio(new[] { 1.0, 1, 1, 1, 0, 0 }).Should().BeApproximately(4, 1e-12);
        // A skew operator's spectrum comes in ± pairs: K planted planes give effective rank 2K.
        HeadCountPredictor.ParticipationRatio(new[] { 2.0, -2, 2, -2, 2, -2 }).Should().BeApproximately(6, 1e-12);
        HeadCountPredictor.ParticipationRatio(new[] { 5.0, 0, 0 }).Should().BeApproximately(1, 1e-12);
        HeadCountPredictor.ParticipationRatio(new[] { 0.0, 0 }).Should().Be(0);
    }

    [Fact]
    public void Greedy_growths_follow_the_geometric_bound()
    {
        // (1 − 1/4)^k ≤ 0.1 first at k = ⌈ln 10 / ln(4/3)⌉ = ⌈8.004⌉ = 9.
        HeadCountPredictor.GreedyGrowths(10, 1, 4, 1).Should().Be(9);
        HeadCountPredictor.GreedyGrowths(1, 2, 4, 1).Should().Be(0, "Γ(0) already at or below θ_w");
        HeadCountPredictor.GreedyGrowths(10, 1, 0.5, 1).Should().Be(1, "c ≥ κ² removes all energy in one growth");
        HeadCountPredictor.GreedyGrowths(10, 1, 40, 1).Should().BeGreaterThan(HeadCountPredictor.GreedyGrowths(10, 1, 4, 1));
        FluentActions.Invoking(() => HeadCountPredictor.GreedyGrowths(double.NaN, 1, 4, 1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void The_order_statistic_of_a_known_sequence_is_the_planted_antisymmetric_plane()
    {
        // One sequence e0 then e1 (then padding): O = (e0 e1ᵀ − e1 e0ᵀ)/n² with n = 2.
        var x = zeros(1, 3, 4, dtype: ScalarType.Float64);
        x[0, 0, 0] = tensor(1.0); x[0, 1, 1] = tensor(1.0); x[0, 2, 2] = tensor(7.0);
        var mask = tensor(new[] { false, false, true }).reshape(1, 3);
        var o = HeadCountPredictor.OrderStatistics(x, mask)[0];
        o[0, 1].item<double>().Should().BeApproximately(0.25, 1e-12);
        o[1, 0].item<double>().Should().BeApproximately(-0.25, 1e-12);
        o.abs().sum().item<double>().Should().BeApproximately(0.5, 1e-12, "the padded token adds nothing");
    }

    [Fact]
    public void Prediction_is_deterministic_leaves_the_model_untouched_and_uses_the_relative_threshold_at_t0()
    {
        var (model, batches) = Setup();
        using var _ = model;
        model.train();
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var a = Predict(model, batches);
        var b = Predict(model, batches);

        a.Should().BeEquivalentTo(b, "same model and batches give the same prediction");
        model.training.Should().BeTrue("the train/eval mode is restored");
        model.parameters().Zip(before).Should().OnlyContain(p => p.First.detach().allclose(p.Second, 0, 0, false));
        a.Batches.Should().Be(4);
        a.Gamma0.Should().BeGreaterThan(0);
        a.ThetaW.Should().BeApproximately(0.1 * a.Gamma0, 1e-12 * a.Gamma0);
        a.LogRatio.Should().BeApproximately(Math.Log(10), 1e-9);
        a.PredictedHeads.Should().Be(1 + GreedyByIteration(a.Gamma0, a.ThetaW, a.KappaSquared, a.Constant),
            "the prediction is the greedy count, here counted step by step instead of by the library's closed form");
        a.KappaSquared.Should().Be(a.KappaSquaredOf(HeadCountPredictor.DefaultMeasure));
        new[] { a.TaskOperatorRank, a.InitialOperatorRank, a.CovarianceRank }.Should().OnlyContain(r => r >= 1 && r <= 16);

        var explicitTheta = Predict(model, batches, new ControllerOptions { CalibrationCalls = 4, ThetaW = a.Gamma0 / 100 });
        explicitTheta.ThetaW.Should().Be(a.Gamma0 / 100);
        explicitTheta.PredictedHeads.Should().BeGreaterThanOrEqualTo(a.PredictedHeads);
    }

    /// <summary>The definition, one growth at a time: each growth removes the fraction c/κ² of the energy left (all of it
    /// when c ≥ κ²) until it is at most θ_w.</summary>
    private static int GreedyByIteration(double gamma0, double thetaW, double kappaSquared, double constant)
    {
        int k = 0;
        for (double energy = gamma0; energy > thetaW * (1 + 1e-12); k++)
            energy = constant >= kappaSquared ? 0 : energy * (1 - constant / kappaSquared);
        return k;
    }

    [Theory]
    [InlineData(100, 1, 2, 1, 7)]      // 100·0.5⁷ = 0.78 ≤ 1 < 100·0.5⁶
    [InlineData(8, 1, 2, 1, 3)]        // 8·0.5³ = 1 exactly: the boundary counts as reached
    [InlineData(1, 2, 1, 1, 0)]        // already below θ_w
    [InlineData(10, 1, 1, 2, 1)]       // c ≥ κ²: one growth removes everything
    [InlineData(50, 1, 10, 1, 38)]     // 50·0.9³⁸ = 0.91 ≤ 1 < 50·0.9³⁷ = 1.01
    public void Greedy_growths_is_the_smallest_count_that_brings_the_energy_to_theta(double gamma0, double theta, double kappa2,
        double c, int expected)
    {
        HeadCountPredictor.GreedyGrowths(gamma0, theta, kappa2, c).Should().Be(expected);
        GreedyByIteration(gamma0, theta, kappa2, c).Should().Be(expected);
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        var (model, batches) = Setup();
        using var _ = model;
        FluentActions.Invoking(() => HeadCountPredictor.Predict(model, Array.Empty<SequenceBatch>())).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => HeadCountPredictor.Predict(null!, Array.Empty<SequenceBatch>())).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => HeadCountPredictor.Predict(model, Array.Empty<SequenceBatch>(), layerIndex: 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => HeadCountPredictor.Predict(model, Array.Empty<SequenceBatch>(), constant: 0)).Should().Throw<ArgumentOutOfRangeException>();
        var bad = new LengthBucketBatcher(new[] { new[] { 2, 5, 6 } }, new[] { 5 }, 1, 1);
        using var batch = bad.Evaluation().Single();
        FluentActions.Invoking(() => HeadCountPredictor.Predict(model, new[] { batch })).Should().Throw<ArgumentException>().WithMessage("*label*");
    }
}
