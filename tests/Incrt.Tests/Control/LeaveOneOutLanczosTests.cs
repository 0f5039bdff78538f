using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary><see cref="LeaveOneOutLanczos"/>: the leave-one-out reading through the heads' factors and batched Lanczos
/// equals the dense oracle (<see cref="LeaveOneOutEnergy"/>), head by head.</summary>
public class LeaveOneOutLanczosTests
{
    private sealed record Case(GrowableMultiHeadAttention Layer, Tensor C, Tensor Full, CapturedBasis Basis, int[] Columns, double[] UPlus) : IDisposable
    {
        public void Dispose() { Layer.Dispose(); Basis.Dispose(); }
    }

    /// <summary>A random layer, the covariance of random tokens with a few strong directions, and a basis whose first
    /// columns are owned by heads 1, 2, … (head 0 owns none, like an initial head).</summary>
    private static Case Build(int d, int heads, int headDim, int columns, ulong seed)
    {
        var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, HeadDim: headDim, InitialHeads: heads, MaxHeads: heads + 1, Seed: seed));
        using var g = new Generator(seed + 100);
        var mix = eye(d, dtype: ScalarType.Float64) + randn(new long[] { d, d }, generator: g, dtype: ScalarType.Float64) * 0.3;
        var x = randn(new long[] { 4, 3 * d, d }, generator: g, dtype: ScalarType.Float64).matmul(mix);
        var c = ResidualOperator.Covariance(x);
        var full = ResidualOperator.Build(c, layer.Motor().to(ScalarType.Float64));
        var basis = new CapturedBasis(d, ScalarType.Float64);
        for (int j = 0; j < columns; j++) basis.Append(randn(d, generator: g, dtype: ScalarType.Float64));
        var owner = Enumerable.Range(0, heads).Select(h => h >= 1 && h <= columns ? h - 1 : -1).ToArray();
        var (_, vectors) = linalg.eigh(ResidualOperator.Project(full, basis));
        var uPlus = vectors.select(1, d - 1).data<double>().ToArray();
        return new Case(layer, c, full, basis, owner, uPlus);
    }

    [Theory]
    [InlineData(16, 3, 4, 2, 1ul)]
    [InlineData(48, 6, 8, 0, 2ul)]
    [InlineData(64, 8, 8, 5, 3ul)]
    [InlineData(160, 16, 10, 12, 4ul)]
    [InlineData(96, 2, 48, 1, 5ul)]
    public void The_Lanczos_reading_equals_the_dense_oracle_for_every_head(int d, int heads, int headDim, int columns, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var k = Build(d, heads, headDim, columns, seed);
        var dense = LeaveOneOutEnergy.Compute(k.C, k.Full, k.Layer.AntisymmetricForms(), k.Basis, k.Columns);

        foreach (var start in new[] { k.UPlus, null })
        {
            var fast = LeaveOneOutLanczos.Compute(k.C, k.Full, k.Layer, k.Basis, k.Columns, start);
            double scale = k.Full.norm().item<double>();
            for (int h = 0; h < heads; h++)
            {
                fast.LambdaMax[h].Should().BeApproximately(dense.LambdaMax[h], 1e-8 * scale, $"head {h}, start {(start is null ? "fixed draw" : "u+")}");
                // the oracle subtracts float32 forms, this path multiplies the float32 weights in float64: 1e-8 apart
                fast.Energy[h].Should().BeApproximately(dense.Energy[h], 1e-6 * dense.Energy[h], $"head {h}");
            }
        }
    }

    [Fact]
    public void Heads_Lanczos_cannot_certify_in_its_step_budget_take_the_oracles_value_and_only_they_are_recomputed()
    {
        using var scope = NewDisposeScope();
        using var k = Build(64, 8, 8, 5, 3);
        var dense = LeaveOneOutEnergy.Compute(k.C, k.Full, k.Layer.AntisymmetricForms(), k.Basis, k.Columns);
        double scale = k.Full.norm().item<double>();
        // Three products cannot read a 64-dimensional spectrum to 1e-7: every head falls back to the oracle.
        var capped = LeaveOneOutLanczos.Compute(k.C, k.Full, k.Layer, k.Basis, k.Columns, k.UPlus, maxSteps: 3);
        for (int h = 0; h < 8; h++) capped.LambdaMax[h].Should().BeApproximately(dense.LambdaMax[h], 1e-12 * scale, $"head {h}");
        // With the boundary deciding half the heads early (their Ritz value is above it), only the rest fall back.
        double median = dense.LambdaMax.OrderBy(x => x).ElementAt(4);
        var mixed = LeaveOneOutLanczos.Compute(k.C, k.Full, k.Layer, k.Basis, k.Columns, k.UPlus, boundary: _ => median * 0.999, maxSteps: 3);
        for (int h = 0; h < 8; h++)
        {
            if (dense.LambdaMax[h] <= median * 0.999) mixed.LambdaMax[h].Should().BeApproximately(dense.LambdaMax[h], 1e-12 * scale, $"redundant head {h}");
            else mixed.LambdaMax[h].Should().BeLessThanOrEqualTo(dense.LambdaMax[h] + 1e-12 * scale, $"head {h}: a Ritz value is a lower bound");
        }
    }

    [Fact]
    public void The_positive_part_energy_is_the_dense_oracles()
    {
        using var scope = NewDisposeScope();
        using var k = Build(24, 4, 4, 2, 7);
        var dense = LeaveOneOutEnergy.Compute(k.C, k.Full, k.Layer.AntisymmetricForms(), k.Basis, k.Columns, positivePart: true);
        var fast = LeaveOneOutLanczos.Compute(k.C, k.Full, k.Layer, k.Basis, k.Columns, k.UPlus, positivePart: true);
        fast.LambdaMax.Should().Equal(dense.LambdaMax);
        fast.Energy.Should().Equal(dense.Energy);
    }

    [Theory]
    [InlineData(0.12, "Grew")]      // grows to MaxHeads: every call's statistic finds no head redundant
    [InlineData(0.2, "Pruned")]     // prunes down to one head, choosing the lowest statistic each time
    public void A_controller_reading_leave_one_out_by_Lanczos_decides_as_the_exact_oracle_on_the_same_run(double thetaW, string exercised)
    {
        // The same seeded run twice: leave-one-out by Lanczos and by the dense oracle (H eigvalsh). Their events, down
        // to the pruned head and its statistic, must be identical.
        string Run(LeaveOneOutSolver solver)
        {
            using var scope = NewDisposeScope();
            using var layer = HeadControllerTests.Layer(heads: 4, maxHeads: 8, seed: 3);
            var optimizer = optim.AdamW(layer.parameters(), lr: 0.01);
            var options = new ControllerOptions
            {
                Interval = 1, Estimator = new EstimatorOptions { Mode = EstimatorMode.Online }, ThetaW = thetaW, MaxDwellCalls = 0,
                Prune = PruneStatistic.LeaveOneOut, LeaveOneOutWindow = 3,
                LeaveOneOutAgeGuard = 2, LeaveOneOutSolver = solver,
            };
            using var controller = new HeadController(new[] { layer }, optimizer, options);
            using var g = new Generator(11);
            var events = new List<string>();
            for (int step = 0; step < 150; step++)
            {
                using var s = NewDisposeScope();
                var x = randn(new long[] { 4, 6, HeadControllerTests.D }, generator: g);
                optimizer.zero_grad();
                var loss = (layer.forward(x) - x.flip(1)).square().mean();
                loss.backward();
                optimizer.step();
                events.AddRange(controller.Step(step, loss.item<float>()).Select(e => $"{e.Step}:{e.Kind}:{e.HeadIndex}:{e.HeadsAfter}:{e.Statistic:G6}"));
            }
            return string.Join(" ", events);
        }

        var lanczos = Run(LeaveOneOutSolver.Lanczos);
        lanczos.Should().Contain(exercised);
        lanczos.Should().Be(Run(LeaveOneOutSolver.Dense));
    }
}
