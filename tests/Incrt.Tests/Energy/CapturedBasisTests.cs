using FluentAssertions;
using Incrt.Energy;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Energy.EnergyTestMath;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

public class CapturedBasisTests
{
    private static double OrthonormalityDefect(CapturedBasis basis)
    {
        if (basis.Count == 0) return 0;
        var q = M(ToHost2D(basis.Matrix));
        return MaxAbs(q.Transpose() * q - Matrix<double>.Build.DenseIdentity(basis.Count));
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-12)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void The_basis_stays_orthonormal_through_random_append_and_remove_sequences(ScalarType dtype, double tolerance)
    {
        const int d = 10;
        var rng = new Random(21);
        using var basis = new CapturedBasis(d, dtype);
        int appended = 0, removed = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = NewDisposeScope();
            bool append = basis.Count == 0 || (basis.Count < d && rng.NextDouble() < 0.6);
            if (append)
            {
                // Some candidates are nearly inside span(Q) but still acceptable: exercises the second Gram–Schmidt pass.
                var u = tensor(RandomMatrix(d, 1, rng), dtype: ScalarType.Float64).reshape(d);
                if (basis.Count > 0 && rng.NextDouble() < 0.3)
                    u = basis.Matrix.to(ScalarType.Float64).matmul(randn(basis.Count, dtype: ScalarType.Float64)) + 1e-2 * u;
                int before = basis.Count;
                // Independent relative residual ‖(I − QQᵀ)u‖/‖u‖: clearly independent candidates must be accepted.
                var uh = Vector<double>.Build.DenseOfArray(ToHost(u));
                var qh = M(ToHost2D(basis.Matrix));
                double residual = (uh - qh * (qh.Transpose() * uh)).L2Norm() / uh.L2Norm();
                if (residual < 1e-3) continue; // near the rejection threshold: not this test's concern
                basis.Append(u).Should().Be(before);
                appended++;
            }
            else
            {
                basis.Remove(rng.Next(basis.Count));
                removed++;
            }
            OrthonormalityDefect(basis).Should().BeLessThan(tolerance, $"after step {step}");
            basis.Matrix.shape.Should().Equal(d, basis.Count);
            basis.Matrix.dtype.Should().Be(dtype);
        }
        appended.Should().BeGreaterThan(20);
        removed.Should().BeGreaterThan(20);
    }

    [Fact]
    public void Remove_keeps_the_surviving_columns_in_order_and_direction()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(22);
        using var basis = new CapturedBasis(6, ScalarType.Float64);
        for (int i = 0; i < 4; i++) basis.Append(tensor(RandomMatrix(6, 1, rng)).reshape(6));
        var before = M(ToHost2D(basis.Matrix));

        basis.Remove(1);

        var after = M(ToHost2D(basis.Matrix));
        after.ColumnCount.Should().Be(3);
        MaxAbs(after.Column(0).ToColumnMatrix() - before.Column(0).ToColumnMatrix()).Should().BeLessThan(1e-12);
        MaxAbs(after.Column(1).ToColumnMatrix() - before.Column(2).ToColumnMatrix()).Should().BeLessThan(1e-12);
        MaxAbs(after.Column(2).ToColumnMatrix() - before.Column(3).ToColumnMatrix()).Should().BeLessThan(1e-12);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Removing_a_missing_column_throws_naming_the_column(int column)
    {
        using var basis = new CapturedBasis(4);
        using var u = tensor(new[] { 1.0, 0, 0, 0 });
        using var v = tensor(new[] { 0.0, 1, 0, 0 });
        basis.Append(u);
        basis.Append(v);
        FluentActions.Invoking(() => basis.Remove(column))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("column");
        basis.Count.Should().Be(2);
    }

    [Fact]
    public void Dependent_non_finite_zero_and_misshaped_vectors_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var basis = new CapturedBasis(3, ScalarType.Float64);
        basis.Append(tensor(new[] { 1.0, 1, 0 }));
        basis.Append(tensor(new[] { 0.0, 1, 1 }));
        var dependent = tensor(new[] { 2.0, 3, 1 }); // = 2·(1,1,0) + (0,1,1)
        FluentActions.Invoking(() => basis.Append(dependent)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "u" && e.Message.Contains("dependent"));
        FluentActions.Invoking(() => basis.Append(tensor(new[] { double.NaN, 0, 1 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "u");
        FluentActions.Invoking(() => basis.Append(tensor(new[] { double.PositiveInfinity, 0, 1 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "u");
        FluentActions.Invoking(() => basis.Append(zeros(3))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "u");
        FluentActions.Invoking(() => basis.Append(ones(4))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "u" && e.Message.Contains("(3)"));
        basis.Count.Should().Be(2);

        basis.Append(tensor(new[] { 1.0, 0, 0 }));
        basis.IsFull.Should().BeTrue();
        FluentActions.Invoking(() => basis.Append(tensor(new[] { 0.3, 0.2, 0.1 }))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => basis.RandomUnitInComplement(1UL)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void The_projector_annihilates_Q_and_is_idempotent()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(23);
        using var basis = new CapturedBasis(5, ScalarType.Float64);
        basis.Append(tensor(RandomMatrix(5, 1, rng)).reshape(5));
        basis.Append(tensor(RandomMatrix(5, 1, rng)).reshape(5));
        var p = M(ToHost2D(basis.Projector()));
        var q = M(ToHost2D(basis.Matrix));
        MaxAbs(p * q).Should().BeLessThan(1e-12);
        MaxAbs(p * p - p).Should().BeLessThan(1e-12);
        p.Trace().Should().BeApproximately(3, 1e-12);
    }

    [Fact]
    public void Random_units_in_the_complement_are_unit_orthogonal_to_Q_and_reproducible()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(24);
        using var basis = new CapturedBasis(6, ScalarType.Float32);
        for (int i = 0; i < 4; i++) basis.Append(tensor(RandomMatrix(6, 1, rng)).reshape(6));

        var u = basis.RandomUnitInComplement(7UL);
        var again = basis.RandomUnitInComplement(7UL);
        var other = basis.RandomUnitInComplement(8UL);

        u.dtype.Should().Be(ScalarType.Float32);
        ToHost(u).Should().Equal(ToHost(again));
        ToHost(u).Should().NotEqual(ToHost(other));
        ToHost(u).Sum(x => x * x).Should().BeApproximately(1, 1e-6);
        ToHost(basis.Matrix.t().matmul(u)).Should().OnlyContain(x => Math.Abs(x) < 1e-6);
    }

    [Fact]
    public void Export_import_and_clone_reproduce_the_basis_independently()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(25);
        using var basis = new CapturedBasis(5, ScalarType.Float64);
        for (int i = 0; i < 3; i++) basis.Append(tensor(RandomMatrix(5, 1, rng)).reshape(5));

        var state = basis.ExportState();
        using var imported = CapturedBasis.ImportState(state, ScalarType.Float64);
        using var clone = basis.Clone();
        basis.Remove(0);

        state.GetLength(0).Should().Be(5);
        state.GetLength(1).Should().Be(3);
        MaxAbs(M(ToHost2D(imported.Matrix)) - M(state)).Should().BeLessThan(1e-12);
        MaxAbs(M(ToHost2D(clone.Matrix)) - M(state)).Should().BeLessThan(1e-12);
        clone.Count.Should().Be(3);

        var bad = (double[,])state.Clone();
        bad[0, 2] = double.NaN;
        FluentActions.Invoking(() => CapturedBasis.ImportState(bad)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("state");
        using var empty = CapturedBasis.ImportState(new double[4, 0]);
        empty.Count.Should().Be(0);
        empty.ExportState().GetLength(0).Should().Be(4);
    }
}
