using FluentAssertions;
using Incrt.Energy;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary>
/// The growth condition λmax &gt; θ_w and λmin &lt; φ_w at its edges, alone and through the controller. In Exact mode
/// λmin ≤ 0 always (A_res is zero on span(Q), and with Q empty its trace is 0), so the φ_w half of the gate can only
/// close in Online mode, where λmin is the Rayleigh quotient of the tracked u−.
/// </summary>
public class GrowthGateTests(ITestOutputHelper output)
{
    private const double Eps = 1e-9;

    [Fact]
    public void The_gate_opens_strictly_above_theta_and_strictly_below_phi()
    {
        const double theta = 2.0, phi = 0.5;
        GrowthGate.EnergyAboveThreshold(theta * (1 + Eps), phi * (1 - Eps), theta, phi).Should().BeTrue();
        GrowthGate.EnergyAboveThreshold(theta * (1 + Eps), -5, theta, phi).Should().BeTrue();
        GrowthGate.EnergyAboveThreshold(theta, phi * (1 - Eps), theta, phi).Should().BeFalse("λmax = θ_w is not above it");
        GrowthGate.EnergyAboveThreshold(theta * (1 - Eps), -5, theta, phi).Should().BeFalse();
        GrowthGate.EnergyAboveThreshold(theta * (1 + Eps), phi, theta, phi).Should().BeFalse("λmin = φ_w closes the gate");
        GrowthGate.EnergyAboveThreshold(10 * theta, phi * (1 + Eps), theta, phi).Should().BeFalse("λmin above φ_w closes the gate");
    }

    private static ControllerOptions Online(double theta, double phi, long seed) => new()
    {
        Interval = 1, ThetaW = theta, PhiW = phi, MaxDwellCalls = 0, Prune = PruneStatistic.None,
        Estimator = new EstimatorOptions { Mode = EstimatorMode.Online, EtaMinus = 1e-9, Seed = seed },
    };

    /// <summary>One controller call on a fresh layer; the event (or null) and the reading.</summary>
    private static (HeadEvent? Event, SpectrumReading Reading) FirstCall(Tensor x, double theta, double phi, long seed)
    {
        using var layer = HeadControllerTests.Layer(heads: 2);
        using var controller = new HeadController(new[] { layer }, null, Online(theta, phi, seed));
        layer.forward(x);
        var e = controller.Step(0).SingleOrDefault();
        return (e, controller.LastReading(0)!);
    }

    [Fact]
    public void Through_the_controller_lambda_min_at_or_above_phi_w_blocks_growth_that_lambda_max_alone_would_allow()
    {
        using var scope = NewDisposeScope();
        var x = HeadControllerTests.PlantedInput(6);
        using var probeLayer = HeadControllerTests.Layer(heads: 2);
        double exact = HeadControllerTests.ExactLambdaMax(probeLayer, x);
        double theta = 1e-6 * exact;

        // An estimator seed whose first u+ reads above θ_w and whose (barely moved, η− tiny) u− reads a positive λmin.
        long seed = -1;
        SpectrumReading? reading = null;
        for (long s = 0; s < 200 && seed < 0; s++)
        {
            var (_, r) = FirstCall(x, theta, 1e12, s);
            if (r.LambdaMax > theta && r.LambdaMin > 0) (seed, reading) = (s, r);
        }
        seed.Should().BeGreaterThanOrEqualTo(0, "some tracker start reads λmin > 0 in Online mode");
        double lambdaMin = reading!.LambdaMin;
        output.WriteLine($"seed {seed}: λmax {reading.LambdaMax:G6} (θ_w {theta:G3}), λmin {lambdaMin:G6}");

        var below = FirstCall(x, theta, lambdaMin * (1 + Eps), seed);
        below.Reading.LambdaMin.Should().Be(lambdaMin, "the same seed gives the same reading");
        below.Event.Should().NotBeNull().And.Match<HeadEvent>(e => e.Kind == HeadEventKind.Grew, "λmin < φ_w: the gate is open");

        var at = FirstCall(x, theta, lambdaMin, seed);
        at.Event.Should().BeNull("λmin = φ_w closes the gate although λmax > θ_w");
        var above = FirstCall(x, theta, lambdaMin * (1 - Eps), seed);
        above.Reading.LambdaMax.Should().BeGreaterThan(theta);
        above.Event.Should().BeNull("λmin > φ_w closes the gate although λmax > θ_w");
    }

    [Fact]
    public void Online_mode_never_grows_just_above_the_exact_lambda_max_and_grows_just_below_it_once_converged()
    {
        using var scope = NewDisposeScope();
        var x = HeadControllerTests.PlantedInput(7);
        using var probe = HeadControllerTests.Layer(heads: 2);
        double exact = HeadControllerTests.ExactLambdaMax(probe, x);
        const double eps = 1e-3;
        const int calls = 150;

        long? Run(double theta, out double lastLambda)
        {
            using var layer = HeadControllerTests.Layer(heads: 2);
            using var controller = new HeadController(new[] { layer }, null, new ControllerOptions
            {
                Interval = 1, ThetaW = theta, MaxDwellCalls = 0, Prune = PruneStatistic.None,
                Estimator = new EstimatorOptions { Mode = EstimatorMode.Online, Iterations = 4, Seed = 3 },
            });
            lastLambda = double.NaN;
            for (int s = 0; s < calls; s++)
            {
                layer.forward(x);
                var grew = controller.Step(s).FirstOrDefault(e => e.Kind == HeadEventKind.Grew);
                lastLambda = controller.LastReading(0)!.LambdaMax;
                if (grew is not null) return grew.Call;
            }
            return null;
        }

        var never = Run(exact * (1 + eps), out double converged);
        output.WriteLine($"exact λmax {exact:G8}; Online reading after {calls} calls {converged:G8}");
        never.Should().BeNull("a Rayleigh quotient never exceeds the largest eigenvalue");
        converged.Should().BeGreaterThan(exact * (1 - eps / 10), "the tracker has converged onto u+");
        var grows = Run(exact * (1 - eps), out _);
        grows.Should().NotBeNull("once converged the reading exceeds θ_w = (1 − ε) λmax");
        output.WriteLine($"θ_w = (1 − {eps}) λmax: grew at call {grows}");
    }
}
