using FluentAssertions;
using Incrt.Energy;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Energy.EnergyTestMath;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

public class OjaMcaTrackerTests
{
    // Planted spectrum with both signs (like A_res): Δ+ = 2.5, Δ− = 3.5.
    private static readonly double[] Planted = { 4.0, 1.5, 1.0, 0.5, -0.5, -1.0, -1.5, -5.0 };

    // With the default steps η+ = 1/(10d) = 1/80 and η− = 1/160 the per-update contraction is about
    // 1 − ηΔ ≈ 0.969 (dominant) and 0.978 (minor): ~300 updates reach 1e-2 from a random start; 1500 leaves margin.
    private const int Iterations = 1500;

    [Theory]
    [InlineData(ScalarType.Float64, 11)]
    [InlineData(ScalarType.Float32, 11)]
    [InlineData(ScalarType.Float64, 12)]
    [InlineData(ScalarType.Float32, 13)]
    public void Oja_and_MCA_converge_to_the_extreme_eigenvectors_of_a_planted_matrix_within_1500_updates(ScalarType dtype, int seed)
    {
        using var scope = NewDisposeScope();
        var (a, _) = PlantedSymmetric(Planted, new Random(seed));
        var evd = M(a).Evd(Symmetricity.Symmetric); // ascending eigenvalues
        int d = Planted.Length;
        double l1 = evd.EigenValues[d - 1].Real, l2 = evd.EigenValues[d - 2].Real;
        double ln1 = evd.EigenValues[1].Real, ld = evd.EigenValues[0].Real;
        double gp = l1 - l2, gm = ln1 - ld, gamma = gp / (gp + gm + 1e-8);

        using var tracker = new OjaMcaTracker(d, seed: (ulong)seed);
        tracker.EtaPlus.Should().Be(1.0 / 80);
        tracker.EtaMinus.Should().Be(1.0 / 160);
        var op = tensor(a, dtype: dtype);
        tracker.Step(op, gamma, Iterations);

        tracker.UPlus.dtype.Should().Be(dtype);
        var up = ToHost(tracker.UPlus);
        var un = ToHost(tracker.UMinus);
        Angle(up, Column(evd.EigenVectors, d - 1)).Should().BeLessThan(1e-2);
        Angle(un, Column(evd.EigenVectors, 0)).Should().BeLessThan(1e-2);
        var (rp, rm) = tracker.RayleighQuotients(op);
        rp.Should().BeApproximately(l1, 1e-3);
        rm.Should().BeApproximately(ld, 1e-3);
    }

    [Fact]
    public void Tracker_vectors_stay_unit_and_mutually_orthogonal()
    {
        using var scope = NewDisposeScope();
        var (a, _) = PlantedSymmetric(Planted, new Random(3));
        using var tracker = new OjaMcaTracker(Planted.Length, seed: 3);
        var op = tensor(a);
        for (int i = 0; i < 5; i++)
        {
            tracker.Step(op, 0.4, 7);
            var up = ToHost(tracker.UPlus);
            var un = ToHost(tracker.UMinus);
            up.Sum(x => x * x).Should().BeApproximately(1, 1e-12);
            un.Sum(x => x * x).Should().BeApproximately(1, 1e-12);
            up.Zip(un, (x, y) => x * y).Sum().Should().BeApproximately(0, 1e-12);
        }
    }

    [Fact]
    public void A_step_against_a_non_finite_operator_leaves_both_vectors_unchanged()
    {
        using var scope = NewDisposeScope();
        using var tracker = new OjaMcaTracker(6, seed: 5);
        var before = (ToHost(tracker.UPlus), ToHost(tracker.UMinus));
        var bad = eye(6, dtype: ScalarType.Float64);
        bad[2, 3] = tensor(double.NaN);
        tracker.Step(bad, 0.5, 3);
        var inf = eye(6, dtype: ScalarType.Float64) * double.PositiveInfinity;
        tracker.Step(inf, 0.5, 1);
        tracker.Step(eye(6, dtype: ScalarType.Float64), double.NaN, 1);
        ToHost(tracker.UPlus).Should().Equal(before.Item1);
        ToHost(tracker.UMinus).Should().Equal(before.Item2);
    }

    [Fact]
    public void A_wrongly_shaped_operator_is_rejected_naming_the_argument()
    {
        using var tracker = new OjaMcaTracker(4);
        using var a = zeros(5, 5);
        var act = () => tracker.Step(a, 0.5);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        act.Should().Throw<ArgumentException>().WithMessage("*(4, 4)*");
    }
}
