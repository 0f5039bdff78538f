using FluentAssertions;
using Incrt.Energy;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Energy.EnergyTestMath;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

public class EnergyResourceTests
{
    [Theory]
    [InlineData(EstimatorMode.Online)]
    [InlineData(EstimatorMode.Exact)]
    public void Repeated_observations_and_basis_updates_leave_no_live_tensors_behind(EstimatorMode mode)
    {
        const int d = 6;
        var rng = new Random(41);
        using var x = tensor(RandomMatrix(12, d, rng), dtype: ScalarType.Float32).reshape(2, 6, d);
        using var mask = tensor(new bool[,] { { false, false, false, false, true, true }, { false, false, false, false, false, false } });
        using var motor = tensor(RandomSkew(d, rng), dtype: ScalarType.Float32);
        using var nan = full(d, d, double.NaN, dtype: ScalarType.Float32);
        using var u = tensor(RandomMatrix(d, 1, rng), dtype: ScalarType.Float32).reshape(d);
        using var basis = new CapturedBasis(d);
        using var estimator = new DirectionalEnergyEstimator(d, new EstimatorOptions { Mode = mode, Iterations = 3 });
        void Round()
        {
            using var c = ResidualOperator.Covariance(x, mask);
            estimator.Observe(c, motor, basis);
            estimator.ObserveOperator(nan);
            basis.Append(u);
            estimator.Observe(c, motor, basis);
            estimator.Redraw(basis);
            basis.Remove(0);
            estimator.ImportState(estimator.ExportState());
        }
        Round(); // warm-up: lazily created tensors (dtype conversion of the tracker) settle here

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 10; i++) Round();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        after.Should().Be(before);
    }
}
