using FluentAssertions;
using Incrt.Control;
using Incrt.Energy;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary><see cref="ThresholdMode.RelativePositive"/>: θ_w = ThetaRatio·‖A₊‖_F (docs/algorithm.md §4).</summary>
public class RelativePositiveThresholdTests
{
    /// <summary>A = V diag(λ) Vᵀ with a random orthogonal V, so the test does not rely on A being diagonal.</summary>
    private static Tensor Rotated(double[] eigenvalues, ulong seed)
    {
        using var g = new Generator(seed);
        int d = eigenvalues.Length;
        var (v, _) = linalg.qr(randn(new long[] { d, d }, ScalarType.Float64, generator: g));
        var a = v.matmul(diag(tensor(eigenvalues, ScalarType.Float64))).matmul(v.t());
        return (a + a.t()) * 0.5;
    }

    [Fact]
    public void Positive_part_norm_keeps_only_the_positive_eigenvalues()
    {
        using var scope = NewDisposeScope();
        var a = Rotated(new[] { 3.0, 1, 0, -2, -5 }, 7);

        ResidualOperator.PositivePartNorm(a).Should().BeApproximately(Math.Sqrt(10), 1e-10, "3² + 1²");
        ThresholdReference.Energy(a, ThresholdMode.RelativePositive).Should().BeApproximately(Math.Sqrt(10), 1e-10);
        ThresholdReference.Energy(a, ThresholdMode.Relative).Should().BeApproximately(Math.Sqrt(39), 1e-10, "9 + 1 + 4 + 25");
        ResidualOperator.PositivePartNorm(Rotated(new[] { -1.0, -2, -3 }, 8)).Should().Be(0, "a negative definite operator has no positive part");
    }

    [Fact]
    public void Positive_part_norm_of_a_non_finite_operator_is_NaN_not_an_exception()
    {
        using var scope = NewDisposeScope();
        var a = Rotated(new[] { 3.0, 1, -2 }, 9);
        a[0, 1] = tensor(double.NaN);
        ResidualOperator.PositivePartNorm(a).Should().Be(double.NaN);
        a[0, 1] = tensor(double.PositiveInfinity);
        ResidualOperator.PositivePartNorm(a).Should().Be(double.NaN);
    }

    /// <summary>λmax(A) and the two reference energies of an untrained layer's operator on <paramref name="x"/> (Q empty).</summary>
    private static (double LambdaMax, double Full, double Positive) Energies(Incrt.Attention.GrowableMultiHeadAttention layer, Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = HeadControllerTests.UnprojectedOperator(layer, x);
        return (linalg.eigvalsh(a).max().item<double>(), a.norm().item<double>(), ResidualOperator.PositivePartNorm(a));
    }

    private static ControllerOptions Relative(ThresholdMode mode, double ratio) => new()
    {
        Interval = 1, Estimator = new EstimatorOptions { Mode = EstimatorMode.Exact }, Thresholds = mode, ThetaRatio = ratio,
        CalibrationCalls = 1, MaxDwellCalls = 0, Prune = PruneStatistic.None,
    };

    /// <summary>Calls 0 (calibration) and 1 (the first decision, θ_w from the mode's reference energy) on a fixed input.</summary>
    private static (int Heads, double ThetaW) FirstDecision(ThresholdMode mode, double ratio, Tensor x)
    {
        using var layer = HeadControllerTests.Layer();
        using var controller = new HeadController(new[] { layer }, null, Relative(mode, ratio));
        layer.forward(x); controller.Step(0);
        layer.forward(x); controller.Step(1);
        return (layer.HeadCount, controller.Thresholds(0)!.ThetaW);
    }

    [Fact]
    public void Controller_grows_exactly_when_lambda_max_exceeds_the_ratio_of_the_positive_part()
    {
        using var scope = NewDisposeScope();
        var x = HeadControllerTests.PlantedInput(11);
        double lambda, full, positive;
        using (var probe = HeadControllerTests.Layer()) (lambda, full, positive) = Energies(probe, x);
        positive.Should().BeLessThan(full, "the operator is a commutator with both signs, so A₊ is a strict part of A");
        double edge = lambda / positive;

        var below = FirstDecision(ThresholdMode.RelativePositive, 0.99 * edge, x);
        below.Heads.Should().Be(2, "λmax > 0.99·(λmax/‖A₊‖)·‖A₊‖");
        below.ThetaW.Should().BeApproximately(0.99 * lambda, 1e-6 * lambda, "θ_w is re-derived from ‖A₊‖_F, not from ‖A‖_F or Γ(0)");
        FirstDecision(ThresholdMode.RelativePositive, 1.01 * edge, x).Heads.Should().Be(1, "λmax < θ_w");

        // Between λmax/‖A‖_F and λmax/‖A₊‖_F the two modes disagree: the full norm keeps θ_w above λmax.
        double between = 0.5 * (lambda / full + edge);
        FirstDecision(ThresholdMode.Relative, between, x).Heads.Should().Be(1);
        FirstDecision(ThresholdMode.RelativePositive, between, x).Heads.Should().Be(2);
    }

    [Fact]
    public void Non_finite_inputs_are_skipped_in_the_positive_mode_too()
    {
        using var scope = NewDisposeScope();
        var x = HeadControllerTests.PlantedInput(12);
        using var layer = HeadControllerTests.Layer();
        using var controller = new HeadController(new[] { layer }, null, Relative(ThresholdMode.RelativePositive, 1e-6));
        layer.forward(x); controller.Step(0);                       // calibration
        var bad = x.clone(); bad[0, 0, 0] = tensor(float.NaN);
        layer.forward(bad);
        var events = controller.Step(1);

        events.Should().ContainSingle().Which.Kind.Should().Be(HeadEventKind.SkippedNonFinite);
        layer.HeadCount.Should().Be(1);
        layer.forward(x);
        controller.Step(2).Should().ContainSingle(e => e.Kind == HeadEventKind.Grew, "a finite call afterwards decides normally");
    }

    [Fact]
    public void Leave_one_out_reports_the_positive_part_of_each_reduced_operator_when_asked()
    {
        using var scope = NewDisposeScope();
        var x = HeadControllerTests.PlantedInput(13);
        using var layer = HeadControllerTests.Layer(heads: 3);
        var c = ResidualOperator.Covariance(x).to(ScalarType.Float64);
        var forms = layer.AntisymmetricForms().to(ScalarType.Float64);
        var fullOp = ResidualOperator.Build(c, layer.Motor().to(ScalarType.Float64));
        using var basis = new CapturedBasis(HeadControllerTests.D, ScalarType.Float64);
        var columns = new[] { -1, -1, -1 };

        var r = LeaveOneOutEnergy.Compute(c, fullOp, forms, basis, columns, positivePart: true);
        var plain = LeaveOneOutEnergy.Compute(c, fullOp, forms, basis, columns);
        for (int h = 0; h < 3; h++)
        {
            var reduced = fullOp - ResidualOperator.Build(c, forms[h]);
            r.Energy[h].Should().BeApproximately(ResidualOperator.PositivePartNorm(reduced), 1e-9);
            plain.Energy[h].Should().BeApproximately(reduced.norm().item<double>(), 1e-9);
            r.Energy[h].Should().BeLessThan(plain.Energy[h]);
        }

    }
}
