using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

/// <summary><see cref="EstimatorMode.Block"/> against the exact eigh oracle on operators recorded from a seeded training.</summary>
public class BlockEstimatorTests
{
    private const int D = 160;   // large enough for the default block (subspace 78 ≤ d/2)

    /// <summary>A short seeded training of one growable layer (the target mixes a shifted copy of the input, so heads
    /// learn directed structure and the controller grows) under the exact energy rule. Records, before every acting
    /// call, the residual operator the rule reads and, after it, the thresholds in force.</summary>
    private static (List<Tensor> Operators, List<EnergyThresholds?> Thresholds, List<HeadEvent> Events) Record(EstimatorMode mode, bool record)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(D, 16, 1, 24, Seed: 3));
        using var optimizer = optim.AdamW(layer.parameters().ToArray(), lr: 3e-3);
        var options = new ControllerOptions { Estimator = new EstimatorOptions { Mode = mode } };
        using var controller = new HeadController(new[] { layer }, optimizer, options);
        var mix = randn(new long[] { D, D }, generator: generator) / Math.Sqrt(D);
        var operators = new List<Tensor>();
        var thresholds = new List<EnergyThresholds?>();
        var events = new List<HeadEvent>();
        for (long step = 0; step < 400; step++)
        {
            using var inner = NewDisposeScope();
            var x = randn(new long[] { 8, 16, D }, generator: generator);
            optimizer.zero_grad();
            var loss = (layer.forward(x) - (x.roll(1, 1).matmul(mix) + x.roll(-2, 1) * 0.5)).square().mean();
            loss.backward();
            optimizer.step();
            bool acting = (step + 1) % options.Interval == 0;
            if (record && acting)
            {
                var c = ResidualOperator.Covariance(x, null).to(ScalarType.Float64);   // x: the layer's input this step
                var a = ResidualOperator.Build(c, layer.Motor().to(ScalarType.Float64), controller.Basis(0));
                operators.Add(a.DetachFromDisposeScope());
            }
            events.AddRange(controller.Step(step, loss.item<float>()));
            if (record && acting) thresholds.Add(controller.Thresholds(0));
        }
        return (operators, thresholds, events);
    }

    [Fact]
    public void Block_estimator_replays_a_recorded_training_with_the_exact_decisions_and_lambda_max_within_one_percent()
    {
        var (operators, thresholds, events) = Record(EstimatorMode.Exact, record: true);
        try
        {
            events.Count(e => e.Kind == HeadEventKind.Grew).Should().BeGreaterThan(2, "the recorded run must contain growth decisions");
            var o = new ControllerOptions();
            using var exact = new DirectionalEnergyEstimator(D, new EstimatorOptions { Mode = EstimatorMode.Exact });
            using var block = new DirectionalEnergyEstimator(D, new EstimatorOptions { Mode = EstimatorMode.Block });
            int compared = 0;
            for (int i = 0; i < operators.Count; i++)
            {
                var e = exact.ObserveOperator(operators[i]);
                var b = block.ObserveOperator(operators[i]);
                b.LambdaMax.Should().BeApproximately(e.LambdaMax, 0.01 * Math.Abs(e.LambdaMax), $"call {i}");
                b.LambdaMin.Should().BeApproximately(e.LambdaMin, 0.01 * Math.Abs(e.LambdaMin), $"call {i}");
                GrowthGate.DwellCalls(b.GapPlus, block.EtaPlus, o.KappaT, o.Epsilon, o.DwellWithoutGap, o.MaxDwellCalls)
                    .Should().Be(GrowthGate.DwellCalls(e.GapPlus, exact.EtaPlus, o.KappaT, o.Epsilon, o.DwellWithoutGap, o.MaxDwellCalls), $"call {i}");
                if (thresholds[i] is not { } t) continue;
                GrowthGate.EnergyAboveThreshold(b.LambdaMax, b.LambdaMin, t.ThetaW, t.PhiW)
                    .Should().Be(GrowthGate.EnergyAboveThreshold(e.LambdaMax, e.LambdaMin, t.ThetaW, t.PhiW), $"call {i}");
                compared++;
            }
            compared.Should().BeGreaterThan(40);
            // The solver must really answer (not hand every call back to eigh): only the first call decomposes exactly.
            block.BlockCalls.Solved.Should().BeGreaterThan(operators.Count * 9 / 10);
        }
        finally
        {
            foreach (var a in operators) a.Dispose();
        }
    }

    [Fact]
    public void Block_estimator_makes_the_same_grow_decisions_as_exact_in_the_same_seeded_training()
    {
        var exact = Record(EstimatorMode.Exact, record: false).Events;
        var block = Record(EstimatorMode.Block, record: false).Events;
        exact.Count(e => e.Kind == HeadEventKind.Grew).Should().BeGreaterThan(2);
        block.Select(e => (e.Step, e.Kind, e.HeadsAfter)).Should().Equal(exact.Select(e => (e.Step, e.Kind, e.HeadsAfter)));
    }

    [Fact]
    public void Block_estimator_falls_back_to_eigh_when_the_width_is_too_small_for_a_block()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var m = randn(new long[] { 16, 16 }, dtype: ScalarType.Float64, generator: g);
        using var block = new DirectionalEnergyEstimator(16, new EstimatorOptions { Mode = EstimatorMode.Block });
        using var exact = new DirectionalEnergyEstimator(16, new EstimatorOptions { Mode = EstimatorMode.Exact });
        var b = block.ObserveOperator(m + m.t());
        b.LambdaMax.Should().Be(exact.ObserveOperator(m + m.t()).LambdaMax);
        block.BlockCalls.Should().Be((0L, 1L));
    }

    [Theory]
    [InlineData(1, 5, 1e-6)]
    [InlineData(3, 0, 1e-6)]
    [InlineData(3, 5, 0.0)]
    [InlineData(3, 5, 0.1)]
    public void Block_options_out_of_range_are_rejected(int vectors, int steps, double tolerance)
    {
        var act = () => new EstimatorOptions { BlockVectors = vectors, BlockSteps = steps, BlockTolerance = tolerance };
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
