using FluentAssertions;
using Incrt.Energy;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Energy.EnergyTestMath;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

public class ResidualOperatorTests
{
    private const int D = 7;

    private static (double[,] C, double[,] Motor) RandomCovarianceAndMotor(Random rng)
    {
        var x = M(RandomMatrix(20, D, rng));
        return ((x.Transpose() * x / 20).ToArray(), RandomSkew(D, rng));
    }

    [Fact]
    public void A_res_matches_the_hand_computed_projected_symmetrised_product()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(1);
        var (c, m) = RandomCovarianceAndMotor(rng);
        using var basis = new CapturedBasis(D, ScalarType.Float64);
        basis.Append(tensor(RandomMatrix(D, 1, rng), dtype: ScalarType.Float64).reshape(D));
        basis.Append(tensor(RandomMatrix(D, 1, rng), dtype: ScalarType.Float64).reshape(D));
        var q = M(ToHost2D(basis.Matrix));
        var p = Matrix<double>.Build.DenseIdentity(D) - q * q.Transpose();
        var cm = M(c) * M(m);
        var expected = p * (0.5 * (cm + cm.Transpose())) * p;

        var a = ResidualOperator.Build(tensor(c), tensor(m), basis);

        MaxAbs(M(ToHost2D(a)) - expected).Should().BeLessThan(1e-12);
    }

    [Theory]
    [InlineData(ScalarType.Float64, 0)]
    [InlineData(ScalarType.Float32, 0)]
    [InlineData(ScalarType.Float64, 3)]
    [InlineData(ScalarType.Float32, 3)]
    public void A_res_is_symmetric_and_follows_the_covariance_dtype(ScalarType dtype, int captured)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(2 + captured);
        var (c, m) = RandomCovarianceAndMotor(rng);
        using var basis = new CapturedBasis(D, ScalarType.Float64);
        for (int i = 0; i < captured; i++) basis.Append(tensor(RandomMatrix(D, 1, rng)).reshape(D));

        var a = ResidualOperator.Build(tensor(c, dtype: dtype), tensor(m, dtype: ScalarType.Float64), basis);

        a.dtype.Should().Be(dtype);
        var host = M(ToHost2D(a));
        MaxAbs(host - host.Transpose()).Should().Be(0);
    }

    [Fact]
    public void With_an_empty_basis_the_trace_of_A_res_is_zero()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(4);
        for (int trial = 0; trial < 5; trial++)
        {
            var (c, m) = RandomCovarianceAndMotor(rng);
            var a = M(ToHost2D(ResidualOperator.Build(tensor(c), tensor(m), basis: null)));
            a.FrobeniusNorm().Should().BeGreaterThan(0.1, "the check must not pass vacuously");
            a.Trace().Should().BeApproximately(0, 1e-12);
        }
    }

    [Fact]
    public void The_complement_projector_annihilates_the_captured_directions()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(5);
        var (c, m) = RandomCovarianceAndMotor(rng);
        using var basis = new CapturedBasis(D, ScalarType.Float64);
        for (int i = 0; i < 3; i++) basis.Append(tensor(RandomMatrix(D, 1, rng)).reshape(D));

        var a = ResidualOperator.Build(tensor(c), tensor(m), basis);
        var aq = a.matmul(basis.Matrix);
        var qa = basis.Matrix.t().matmul(a);

        a.norm().item<double>().Should().BeGreaterThan(0.1);
        aq.abs().max().item<double>().Should().BeLessThan(1e-12);
        qa.abs().max().item<double>().Should().BeLessThan(1e-12);
    }

    [Fact]
    public void Mismatched_shapes_are_rejected_naming_the_argument_and_the_expected_shape()
    {
        using var scope = NewDisposeScope();
        using var basis = new CapturedBasis(D + 1);
        var c = eye(D);
        FluentActions.Invoking(() => ResidualOperator.Build(c, zeros(D + 1, D + 1)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "motor" && e.Message.Contains($"({D}, {D})"));
        FluentActions.Invoking(() => ResidualOperator.Build(zeros(D, D + 1), zeros(D, D)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "covariance");
        FluentActions.Invoking(() => ResidualOperator.Build(c, zeros(D, D), basis))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "basis");
    }

    [Fact]
    public void The_antisymmetry_defect_is_zero_for_a_skew_motor_and_positive_otherwise()
    {
        using var scope = NewDisposeScope();
        var skew = RandomSkew(D, new Random(6));
        ResidualOperator.AntisymmetryDefect(tensor(skew)).Should().Be(0);
        ResidualOperator.AntisymmetryDefect(tensor(skew) + eye(D, dtype: ScalarType.Float64)).Should().BeGreaterThan(0.1);
    }
}
