using FluentAssertions;
using Incrt.Energy;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Energy.EnergyTestMath;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

public class DirectionalEnergyEstimatorTests
{
    private const int D = 8;

    private static (double L1, double L2, double Ln1, double Ld, Matrix<double> V) MathNetSpectrum(double[,] a)
    {
        var evd = M(a).Evd(Symmetricity.Symmetric);
        int d = a.GetLength(0);
        return (evd.EigenValues[d - 1].Real, evd.EigenValues[d - 2].Real, evd.EigenValues[1].Real, evd.EigenValues[0].Real, evd.EigenVectors);
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]
    [InlineData(ScalarType.Float32, 1e-4)]
    public void Exact_mode_gaps_extremes_and_vectors_equal_MathNets(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(31);
        using var estimator = new DirectionalEnergyEstimator(D, new EstimatorOptions { Mode = EstimatorMode.Exact });
        for (int trial = 0; trial < 3; trial++)
        {
            var a = RandomSymmetric(D, rng);
            var (l1, l2, ln1, ld, v) = MathNetSpectrum(a);
            double gp = l1 - l2, gm = ln1 - ld;

            var r = estimator.ObserveOperator(tensor(a, dtype: dtype));

            r.IsFinite.Should().BeTrue();
            r.Mode.Should().Be(EstimatorMode.Exact);
            r.GapPlus.Should().BeApproximately(gp, tolerance * 10);
            r.GapMinus.Should().BeApproximately(gm, tolerance * 10);
            r.GammaStar.Should().BeApproximately(gp / (gp + gm + 1e-8), tolerance * 10);
            r.LambdaMax.Should().BeApproximately(l1, tolerance * 10);
            r.LambdaMin.Should().BeApproximately(ld, tolerance * 10);
            r.FrobeniusNorm.Should().BeApproximately(M(a).FrobeniusNorm(), tolerance * 10);
            Angle(r.UPlus, Column(v, D - 1)).Should().BeLessThan(Math.Sqrt(tolerance));
            Angle(r.UMinus, Column(v, 0)).Should().BeLessThan(Math.Sqrt(tolerance));
            Angle(ToHost(estimator.UPlus), Column(v, D - 1)).Should().BeLessThan(Math.Sqrt(tolerance));
        }
    }

    [Fact]
    public void Gaps_are_floored_at_1e_minus_8_for_a_degenerate_spectrum()
    {
        using var scope = NewDisposeScope();
        using var estimator = new DirectionalEnergyEstimator(4, new EstimatorOptions { Mode = EstimatorMode.Exact });
        var r = estimator.ObserveOperator(eye(4, dtype: ScalarType.Float64) * 3);
        r.GapPlus.Should().Be(1e-8);
        r.GapMinus.Should().Be(1e-8);
        r.GammaStar.Should().BeApproximately(1.0 / 3, 1e-12);
    }

    [Fact]
    public void Online_mode_reads_gaps_from_eigh_and_converges_to_the_exact_extremes_over_repeated_calls()
    {
        using var scope = NewDisposeScope();
        var (a, v) = PlantedSymmetric(new[] { 3.0, 1.0, 0.5, 0.0, -0.2, -0.5, -1.0, -4.0 }, new Random(32));
        using var estimator = new DirectionalEnergyEstimator(D, new EstimatorOptions { Iterations = 100, Seed = 4 });
        estimator.EtaPlus.Should().Be(1.0 / 80);
        estimator.EtaMinus.Should().Be(1.0 / 160);
        var op = tensor(a, dtype: ScalarType.Float32);

        SpectrumReading r = estimator.ObserveOperator(op);
        r.GapPlus.Should().BeApproximately(2.0, 1e-5);
        r.GapMinus.Should().BeApproximately(3.0, 1e-5);
        for (int call = 0; call < 14; call++) r = estimator.ObserveOperator(op);

        r.Mode.Should().Be(EstimatorMode.Online);
        r.ExactLambdaMax.Should().BeApproximately(3.0, 1e-5);
        r.ExactLambdaMin.Should().BeApproximately(-4.0, 1e-5);
        r.LambdaMax.Should().BeApproximately(3.0, 1e-3);
        r.LambdaMin.Should().BeApproximately(-4.0, 1e-3);
        Angle(r.UPlus, Column(v, 0)).Should().BeLessThan(1e-2);
        Angle(r.UMinus, Column(v, D - 1)).Should().BeLessThan(1e-2);
    }

    [Fact]
    public void A_single_online_update_moves_the_vectors_only_slightly()
    {
        using var scope = NewDisposeScope();
        var (a, _) = PlantedSymmetric(new[] { 3.0, 1.0, 0.5, 0.0, -0.2, -0.5, -1.0, -4.0 }, new Random(33));
        using var estimator = new DirectionalEnergyEstimator(D);
        var before = ToHost(estimator.UPlus);
        var r = estimator.ObserveOperator(tensor(a));
        double moved = Angle(r.UPlus, before);
        moved.Should().BeGreaterThan(0).And.BeLessThan(0.1, "one step of size η+ = 1/80 on ‖A‖ = 4 is a small rotation");
    }

    [Fact]
    public void Observe_builds_A_res_from_covariance_motor_and_basis()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(34);
        var x = M(RandomMatrix(30, D, rng));
        var c = (x.Transpose() * x / 30).ToArray();
        var m = RandomSkew(D, rng);
        using var basis = new CapturedBasis(D, ScalarType.Float64);
        basis.Append(tensor(RandomMatrix(D, 1, rng)).reshape(D));
        var q = M(ToHost2D(basis.Matrix));
        var p = Matrix<double>.Build.DenseIdentity(D) - q * q.Transpose();
        var cm = M(c) * M(m);
        var aHand = (p * (0.5 * (cm + cm.Transpose())) * p).ToArray();
        var (l1, l2, ln1, ld, _) = MathNetSpectrum(aHand);

        using var estimator = new DirectionalEnergyEstimator(D, new EstimatorOptions { Mode = EstimatorMode.Exact });
        var r = estimator.Observe(tensor(c), tensor(m), basis);

        r.LambdaMax.Should().BeApproximately(l1, 1e-10);
        r.LambdaMin.Should().BeApproximately(ld, 1e-10);
        r.GapPlus.Should().BeApproximately(l1 - l2, 1e-10);
        r.GapMinus.Should().BeApproximately(ln1 - ld, 1e-10);
        r.FrobeniusNorm.Should().BeApproximately(M(aHand).FrobeniusNorm(), 1e-10);
    }

    [Theory]
    [InlineData(EstimatorMode.Online)]
    [InlineData(EstimatorMode.Exact)]
    public void Non_finite_input_never_changes_the_tracker_vectors(EstimatorMode mode)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(35);
        using var estimator = new DirectionalEnergyEstimator(D, new EstimatorOptions { Mode = mode, Iterations = 3 });
        estimator.ObserveOperator(tensor(RandomSymmetric(D, rng)));
        var before = estimator.ExportState();

        var nanOperator = tensor(RandomSymmetric(D, rng));
        nanOperator[1, 2] = tensor(double.NaN);
        var infCovariance = eye(D, dtype: ScalarType.Float64);
        infCovariance[0, 0] = tensor(double.PositiveInfinity);
        var x = randn(2, 5, D);
        x[1, 3, 4] = tensor(float.NaN);
        var readings = new[]
        {
            estimator.ObserveOperator(nanOperator),
            estimator.Observe(infCovariance, tensor(RandomSkew(D, rng)), null),
            estimator.Observe(ResidualOperator.Covariance(x), tensor(RandomSkew(D, rng), dtype: ScalarType.Float32), null),
            estimator.Observe(eye(D), tensor(RandomSkew(D, rng)) * float.NegativeInfinity, null),
        };

        readings.Should().OnlyContain(r => !r.IsFinite && double.IsNaN(r.LambdaMax) && double.IsNaN(r.GammaStar) && r.UPlus.Count == 0);
        var after = estimator.ExportState();
        after.UPlus.Should().Equal(before.UPlus);
        after.UMinus.Should().Equal(before.UMinus);
        after.Draws.Should().Be(before.Draws);
    }

    [Fact]
    public void Redraw_gives_unit_mutually_orthogonal_vectors_in_the_complement_of_Q_reproducibly()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(36);
        using var basis = new CapturedBasis(D, ScalarType.Float64);
        for (int i = 0; i < 5; i++) basis.Append(tensor(RandomMatrix(D, 1, rng)).reshape(D));
        using var first = new DirectionalEnergyEstimator(D, new EstimatorOptions { Seed = 9 });
        using var second = new DirectionalEnergyEstimator(D, new EstimatorOptions { Seed = 9 });
        using var third = new DirectionalEnergyEstimator(D, new EstimatorOptions { Seed = 10 });
        ToHost(first.UPlus).Should().Equal(ToHost(second.UPlus));
        ToHost(first.UPlus).Should().NotEqual(ToHost(third.UPlus));

        first.Redraw(basis);
        second.Redraw(basis);

        var up = ToHost(first.UPlus);
        var un = ToHost(first.UMinus);
        up.Should().Equal(ToHost(second.UPlus));
        un.Should().Equal(ToHost(second.UMinus));
        up.Sum(t => t * t).Should().BeApproximately(1, 1e-12);
        un.Sum(t => t * t).Should().BeApproximately(1, 1e-12);
        up.Zip(un, (s, t) => s * t).Sum().Should().BeApproximately(0, 1e-12);
        var q = M(ToHost2D(basis.Matrix));
        MaxAbs((q.Transpose() * Vector<double>.Build.DenseOfArray(up)).ToColumnMatrix()).Should().BeLessThan(1e-12);
        MaxAbs((q.Transpose() * Vector<double>.Build.DenseOfArray(un)).ToColumnMatrix()).Should().BeLessThan(1e-12);

        var beforeSecondRedraw = ToHost(first.UPlus);
        first.Redraw(basis);
        ToHost(first.UPlus).Should().NotEqual(beforeSecondRedraw, "each redraw consumes a fresh draw");
    }

    [Fact]
    public void Exported_state_restores_an_identical_trajectory()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(37);
        var ops = Enumerable.Range(0, 4).Select(_ => tensor(RandomSymmetric(D, rng))).ToArray();
        using var original = new DirectionalEnergyEstimator(D, new EstimatorOptions { Seed = 1, Iterations = 5 });
        original.ObserveOperator(ops[0]);
        original.ObserveOperator(ops[1]);
        var state = original.ExportState();

        using var restored = new DirectionalEnergyEstimator(D, new EstimatorOptions { Seed = 1, Iterations = 5 });
        restored.ImportState(state);
        foreach (var op in ops.Skip(2))
        {
            var a = original.ObserveOperator(op);
            var b = restored.ObserveOperator(op);
            b.UPlus.Should().Equal(a.UPlus);
            b.UMinus.Should().Equal(a.UMinus);
            b.LambdaMax.Should().Be(a.LambdaMax);
        }

        FluentActions.Invoking(() => restored.ImportState(state with { Dimension = D + 1 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("state");
        FluentActions.Invoking(() => restored.ImportState(state with { UMinus = state.UPlus })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("state");
    }

    [Fact]
    public void Bad_arguments_are_rejected_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        using var estimator = new DirectionalEnergyEstimator(D);
        FluentActions.Invoking(() => estimator.ObserveOperator(zeros(D, D + 1)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "residualOperator" && e.Message.Contains($"({D}, {D})"));
        FluentActions.Invoking(() => estimator.Observe(eye(D + 1), zeros(D + 1, D + 1), null))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("covariance");
        FluentActions.Invoking(() => new EstimatorOptions { Iterations = 0 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Iterations");
        FluentActions.Invoking(() => new EstimatorOptions { EtaPlus = double.NaN }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("EtaPlus");
        FluentActions.Invoking(() => new EstimatorOptions { EtaMinus = -1 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("EtaMinus");
        FluentActions.Invoking(() => new DirectionalEnergyEstimator(1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("dimension");
    }
}
