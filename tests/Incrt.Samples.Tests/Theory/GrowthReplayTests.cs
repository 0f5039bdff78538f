using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Models;
using Incrt.Tasks.Data;
using Incrt.Theory;
using Incrt.Training;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Theory;

public class GrowthReplayTests
{
    // ‖A‖_F² = 16 + 9 + 4 + 0.25 + 0.09 + 0 + 20.25 + 28.09 = 77.68, so θ_w = 0.1·‖A‖_F ≈ 0.881 and φ_w ≈ 0.441.
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Tensor KnownSpectrum() => diag(tensor(new[] { 4.0, 3, 2, 0.5, 0.3, 0, -4.5, -5.3 }));

    [Fact]
    public void Static_replay_captures_exactly_the_eigenvalues_above_the_relative_threshold()
    {
        using var a = KnownSpectrum();
        var r = GrowthReplay.Static(a, initialHeads: 1, maxHeads: 32);
        r.Growths.Should().Be(3, "4, 3 and 2 exceed θ_w ≈ 0.881; 0.5 does not");
        r.Heads.Should().Be(4);
        r.StoppedBy.Should().Be("energy");
        r.EnergyRatios.Should().HaveCount(4);
        r.EnergyRatios[0].Should().BeApproximately(4 / (0.1 * Math.Sqrt(77.68)), 1e-9);
        r.EnergyRatios[^1].Should().BeApproximately(0.5 / (0.1 * Math.Sqrt(77.68)), 1e-9, "the residual's top is the 4th eigenvalue");
    }

    [Fact]
    public void Static_replay_honours_a_fixed_threshold_and_the_caps()
    {
        using var a = KnownSpectrum();
        GrowthReplay.Static(a, 1, 32, thetaW: 2.5).Heads.Should().Be(3, "only 4 and 3 exceed θ_w = 2.5");
        GrowthReplay.Static(a, 1, 32, thetaW: 10).Heads.Should().Be(1, "nothing exceeds θ_w = 10");
        var capped = GrowthReplay.Static(a, 1, 2);
        capped.Heads.Should().Be(2);
        capped.StoppedBy.Should().Be("max-heads");
        using var scaled = a * 7;
        GrowthReplay.Static(scaled, 1, 32).Heads.Should().Be(4, "the relative rule is scale invariant");
    }

    [Fact]
    public void Replayed_heads_are_drawn_exactly_as_the_layer_draws_them()
    {
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(8, 4, Seed: 11));
        using var generator = new Generator(0, CPU);
        using (var state = tensor(layer.ExportGeneratorState(), ScalarType.Byte)) generator.set_state(state);
        var u = new[] { 1.0, 2, 0, 0, -1, 0, 0, 3 };
        var v = new[] { 0.0, 1, 1, 0, 0, 2, 0, 0 };
        using var uT = tensor(u);
        using var vT = tensor(v);

        var (wq, wk) = GrowthReplay.DrawHead(generator, 8, 4, GrowthInit.EigenSeeded, uT, vT);
        layer.AddHead(HeadInit.EigenSeeded(u, v));
        var (lq, lk) = layer.QueryKeyWeights();
        lq[1].to(ScalarType.Float64).allclose(wq, 1e-6, 1e-6).Should().BeTrue("same generator state, same draw order");
        lk[1].to(ScalarType.Float64).allclose(wk, 1e-6, 1e-6).Should().BeTrue();

        // The next draw stays in step too (the output projection was drawn in between).
        var (wq2, _) = GrowthReplay.DrawHead(generator, 8, 4, GrowthInit.Random, uT, vT);
        layer.AddHead(HeadInit.Random);
        layer.QueryKeyWeights().Wq[2].to(ScalarType.Float64).allclose(wq2, 1e-6, 1e-6).Should().BeTrue();
    }

    [Fact]
    public void The_schedule_replay_respects_the_dwell_time_and_the_call_budget()
    {
        const int d = 16;
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, 2, Seed: 5));
        var (wq, wk) = layer.QueryKeyWeights();
        using var c = eye(d, dtype: ScalarType.Float64) + diag(arange(d, dtype: ScalarType.Float64)) * 0.1;
        var covariances = Enumerable.Repeat(c, 10).ToList();

        // θ_w tiny: the energy condition always holds, so only the dwell time and the budget limit growth.
        using var g1 = new Generator(3, CPU);
        var scheduled = GrowthReplay.WithNewHeads(covariances, wq, wk, g1, GrowthInit.EigenSeeded, 64, thetaW: 1e-12,
            schedule: new ControllerOptions { MaxDwellCalls = 3 });
        scheduled.Growths.Should().Be(3, "growth at decisions 3, 6 and 9 of 10 with a dwell of 3");
        scheduled.StoppedBy.Should().Be("budget");
        scheduled.EnergyRatios.Should().HaveCount(10);

        using var g2 = new Generator(3, CPU);
        var free = GrowthReplay.WithNewHeads(covariances, wq, wk, g2, GrowthInit.EigenSeeded, 64, thetaW: 1e-12);
        free.Growths.Should().BeGreaterThan(scheduled.Growths, "without a schedule it grows at every decision while energy is left");
        free.Heads.Should().BeLessThanOrEqualTo(1 + d - 2, "Q must leave at least 3 complement dimensions");
        if (free.StoppedBy == "energy")
        {
            // It stops only after a full quiet pass over the 10 covariances, and every decision before grew.
            free.EnergyRatios.Should().HaveCount(free.Growths + 10);
            free.EnergyRatios.TakeLast(10).Should().OnlyContain(r => r <= 1);
        }
        else free.StoppedBy.Should().Be("basis-full");
    }

    [Fact]
    public void The_decision_schedule_is_every_interval_th_step_after_calibration()
    {
        var sequences = Enumerable.Range(0, 40).Select(i => new[] { 2, 3 + i % 5, 4 }).ToList();
        var batcher = new LengthBucketBatcher(sequences, sequences.Select(s => s[1] % 2).ToList(), 2, 1); // 20 batches/epoch
        var options = new ControllerOptions { Interval = 5, CalibrationCalls = 3 };
        var decided = DecisionSchedule.Batches(batcher, 3, options).ToList();
        var all = Enumerable.Range(0, 3).SelectMany(batcher.Epoch).ToList();
        try
        {
            decided.Should().HaveCount(60 / 5 - 3, "60 steps, a call every 5, the first 3 calibrate");
            // Call 3 (the first decision) follows global step 19, i.e. the 20th batch.
            Same(decided[0].Ids, all[19].Ids).Should().BeTrue();
            Same(decided[^1].Ids, all[59].Ids).Should().BeTrue();
            DecisionSchedule.Batches(batcher, 3, options with { ThetaW = 1 }).Count().Should().Be(12, "an explicit θ_w skips calibration");
        }
        finally
        {
            foreach (var b in decided.Concat(all)) b.Dispose();
        }
    }

    [Fact]
    public void The_replay_measure_predicts_the_replay_and_leaves_the_model_and_its_generator_untouched()
    {
        var task = new SyntheticDirectedTask(new SyntheticTaskOptions { Relations = 2, VocabularySize = 40, SequenceLength = 12, Seed = 3 });
        var data = task.Generate(256, 1);
        IncrtClassifier Model() => new(new IncrtModelOptions(40, 16, DModel: 16, HeadDim: 4, MaxHeads: 12, Dropout: 0.0, Seed: 2));
        using var model = Model();
        using var twin = Model();
        var batches = new LengthBucketBatcher(data.Sequences, data.Labels, 32, 1);
        var options = new ControllerOptions { CalibrationCalls = 4, Interval = 1 };
        var calibration = batches.Epoch(0).Take(4).ToList();
        HeadCountPrediction p;
        try
        {
            p = HeadCountPredictor.Predict(model, calibration, options, measure: ComplexityMeasure.GrowthReplay,
                schedule: DecisionSchedule.Batches(batches, 2, options));
        }
        finally { foreach (var b in calibration) b.Dispose(); }

        p.Measure.Should().Be(ComplexityMeasure.GrowthReplay);
        p.ReplayDecisions.Should().Be(2 * 8 - 4);
        p.PredictedHeads.Should().Be(p.ReplayHeads);
        p.ReplayHeads.Should().BeInRange(1, 12);
        p.PredictWith(ComplexityMeasure.GrowthReplay, 123).Should().Be(p.ReplayHeads);
        p.StaticReplayHeads.Should().BeGreaterThanOrEqualTo(1);
        FluentActions.Invoking(() => p.KappaSquaredOf(ComplexityMeasure.GrowthReplay)).Should().Throw<ArgumentException>();

        // The replay used a copy of the head generator: the next real head equals the twin's, which never predicted.
        var layer = model.GrowableLayers[0];
        layer.HeadCount.Should().Be(1);
        layer.AddHead(HeadInit.Random);
        twin.GrowableLayers[0].AddHead(HeadInit.Random);
        Same(layer.QueryKeyWeights().Wq[1], twin.GrowableLayers[0].QueryKeyWeights().Wq[1]).Should().BeTrue();
    }

    [Fact]
    public void Growth_replay_takes_theta_from_the_positive_part_when_asked()
    {
        // Eigenvalues 4, 3, 2, 0.5, 0.3, 0, −4.5, −5.3: ‖A‖_F = √77.68 ≈ 8.81, ‖A₊‖_F = √29.34 ≈ 5.42. With ratio 0.09,
        // θ_w ≈ 0.793 (full: 4, 3, 2 exceed it) against ≈ 0.4875 (positive part: 0.5 exceeds it too).
        using var scope = NewDisposeScope();
        var a = diag(tensor(new[] { 4.0, 3, 2, 0.5, 0.3, 0, -4.5, -5.3 }));
        GrowthReplay.Static(a, 1, 32, thetaRatio: 0.09).Heads.Should().Be(4);
        var positive = GrowthReplay.Static(a, 1, 32, thetaRatio: 0.09, positivePart: true);
        positive.Heads.Should().Be(5);
        positive.EnergyRatios[0].Should().BeApproximately(4 / (0.09 * Math.Sqrt(29.34)), 1e-9);
    }
}
