using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Theory;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Theory;

public class HomeostasisCheckTests
{
    private static ControllerOptions Options(double theta, double phiG) => new()
    {
        Interval = 1, Estimator = new EstimatorOptions { Mode = EstimatorMode.Exact }, ThetaW = theta, PhiG = phiG,
        MaxDwellCalls = 0, Prune = PruneStatistic.Reference, PruneWindow = 1000,
    };

    private static void Drive(GrowableMultiHeadAttention layer, HeadController controller, int calls)
    {
        using var g = new Generator(7);
        for (int s = 0; s < calls; s++)
        {
            using var scope = NewDisposeScope();
            layer.forward(randn(new long[] { 4, 8, 16 }, generator: g));
            controller.Step(s);
        }
    }

    [Fact]
    public void A_controller_with_nothing_left_to_capture_is_stopped_sufficient_and_minimal()
    {
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 2, MaxHeads: 2, Seed: 1));
        using var controller = new HeadController(new[] { layer }, null, Options(theta: 1e6, phiG: 1e-12));
        Drive(layer, controller, 10);

        var report = HomeostasisCheck.Check(controller);
        report.Should().Match<HomeostasisReport>(r => r.Stopped && r.Sufficient && r.Minimal && r.Converged && r.AllHold);
        report.Heads.Should().Be(2);
        report.CallsSinceLastChange.Should().Be(10);
        report.EnergyRatio.Should().BeLessThan(1);
        report.HeadsBelowPhiG.Should().Be(0);
        report.HeadsNecessary.Should().Be(0, "no head's removal can push λmax above a huge θ_w");
        controller.IsConverged.Should().BeTrue();
    }

    [Fact]
    public void A_controller_blocked_above_threshold_with_redundant_heads_is_neither_sufficient_nor_minimal()
    {
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 2, MaxHeads: 2, Seed: 1));
        using var controller = new HeadController(new[] { layer }, null, Options(theta: 1e-9, phiG: 1e6));
        Drive(layer, controller, 10);

        var report = HomeostasisCheck.Check(controller);
        report.Sufficient.Should().BeFalse("λmax stays above a tiny θ_w when the cap blocks growth");
        report.Minimal.Should().BeFalse();
        report.HeadsBelowPhiG.Should().Be(2);
        report.Converged.Should().BeFalse();
        report.AllHold.Should().BeFalse();
        report.EnergyRatio.Should().BeGreaterThan(1);
        report.HeadsNecessary.Should().Be(2, "without either head the other still leaves λmax above a tiny θ_w");
        controller.IsConverged.Should().BeFalse();
        controller.LastPruneStatistics(0).Should().HaveCount(2);
        controller.BasisOwners(0).Should().BeEmpty();
    }

    [Fact]
    public void Necessary_heads_are_those_whose_removal_from_the_whole_motor_leaves_lambda_max_above_theta()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, InitialHeads: 4, MaxHeads: 4, Seed: 3));
        using var g = new Generator(11);
        var x = randn(new long[] { 4, 8, 16 }, generator: g);
        var c = ResidualOperator.Covariance(x).to(ScalarType.Float64);
        var motor = layer.Motor().to(ScalarType.Float64);
        var forms = layer.AntisymmetricForms().to(ScalarType.Float64);
        // No head owns a Q column here, so "without head h" is the motor minus M_a,h alone.
        var without = Enumerable.Range(0, 4)
            .Select(h => linalg.eigvalsh(ResidualOperator.Build(c, motor - forms[h])).max().item<double>()).OrderDescending().ToArray();
        double theta = (without[1] + without[2]) / 2;                            // exactly two heads above it
        using var controller = new HeadController(new[] { layer }, null, Options(theta: theta, phiG: 1e-12) with { Prune = PruneStatistic.None });
        layer.forward(x);
        controller.Step(0);

        HomeostasisCheck.Check(controller).HeadsNecessary.Should().Be(2);
    }

    [Fact]
    public void A_controller_that_has_not_calibrated_has_not_stopped()
    {
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(16, HeadDim: 4, Seed: 1));
        using var controller = new HeadController(new[] { layer }, null, new ControllerOptions { Interval = 1, CalibrationCalls = 50 });
        Drive(layer, controller, 3);
        var report = HomeostasisCheck.Check(controller);
        report.Stopped.Should().BeFalse();
        report.Sufficient.Should().BeFalse();
        report.HeadsNecessary.Should().Be(-1);
        FluentActions.Invoking(() => HomeostasisCheck.Check(controller, 1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
