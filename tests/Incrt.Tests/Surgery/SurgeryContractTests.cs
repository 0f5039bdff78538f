using FluentAssertions;
using Incrt.Tests.Control;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

/// <summary>Contracts that Stryker found unguarded: slot names, null layers, the wrong-optimizer message, and the dwell
/// time at its gap floor and cap.</summary>
public class SurgeryContractTests
{
    [Theory]
    [InlineData(OptimizerStateOracle.Opt.AdamAmsgrad, new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" })]
    [InlineData(OptimizerStateOracle.Opt.AdamWAmsgrad, new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" })]
    [InlineData(OptimizerStateOracle.Opt.SgdMomentum, new[] { "momentum_buffer" })]
    public void State_slots_carry_PyTorchs_state_names(OptimizerStateOracle.Opt kind, string[] names)
    {
        using var scope = NewDisposeScope();
        using var layer = HeadControllerTests.Layer(heads: 2);
        var opt = OptimizerStateOracle.Make(kind, layer.parameters().ToArray());
        var slots = HeadSurgery.CollectSlots(layer, opt);
        slots.Select(s => s.Name).Should().Equal(layer.PerHeadParameters.SelectMany(_ => names), "one group of slots per per-head parameter");
    }

    [Fact]
    public void A_null_layer_is_rejected_naming_it()
    {
        FluentActions.Invoking(() => HeadSurgery.AddHead(null!, null, HeadInit.Random))
            .Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("layer");
        FluentActions.Invoking(() => HeadSurgery.RemoveHeads(null!, null, new[] { 0 }))
            .Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("layer");
    }

    [Fact]
    public void The_wrong_optimizer_is_named_with_the_parameter_it_does_not_own()
    {
        using var scope = NewDisposeScope();
        using var layer = HeadControllerTests.Layer();
        using var other = nn.Linear(4, 4);
        var opt = optim.Adam(other.parameters().ToArray());
        FluentActions.Invoking(() => HeadSurgery.AddHead(layer, opt, HeadInit.Random)).Should().Throw<ArgumentException>()
            .WithMessage("The optimizer (Adam) does not own the layer's parameter of shape (1, 3, 16, 4)*model.parameters()*");
    }

    [Fact]
    public void Dwell_time_uses_the_formula_from_the_gap_floor_on_and_caps_overflowing_values()
    {
        // Δ+ = 1e-8 is the floor itself: the formula applies, not the no-gap value.
        long atFloor = GrowthGate.DwellCalls(1e-8, 1.0, 2, 0.05, 7, null);
        double formula = 2 * Math.Log(1 / 0.05) / (1.0 * 1e-8 * 1e-8);
        ((double)atFloor).Should().BeApproximately(formula, 1e-12 * formula, "≈ 6e16 calls, below the cap");
        GrowthGate.DwellCalls(0.99e-8, 1.0, 2, 0.05, 7, null).Should().Be(7, "below the floor: the no-gap value");
        GrowthGate.DwellCalls(1e-6, 1e-12, 2, 0.05, 7, null).Should().Be((long)(double)(long.MaxValue / 2), "6e24 calls stop at the cap");
        GrowthGate.DwellCalls(1e-6, 1e-12, 2, 0.05, 7, 50).Should().Be(50);
    }
}
