using FluentAssertions;
using Incrt.Energy;
using Incrt.Tests.Attention;
using Incrt.Tests.Surgery;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary>
/// A non-finite value anywhere the controller could act on (any weight slice, any bias, the captured input), with or
/// without a loss passed to <see cref="HeadController.Step"/>, skips the call: no growth, Q and the optimizer state
/// unchanged. Each case is set up so that the same call grows a head when nothing is poisoned ("none").
/// </summary>
public class NonFiniteControllerTests
{
    private const int Heads = 2;

    public static TheoryData<string, double, bool> Cases()
    {
        var data = new TheoryData<string, double, bool>();
        foreach (var where in new[] { "W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O", "input" })
        foreach (var value in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        foreach (var withLoss in new[] { false, true })
            data.Add(where, value, withLoss);
        data.Add("none", 0, false);
        data.Add("none", 0, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_non_finite_value_anywhere_skips_the_call_and_changes_nothing(string where, double value, bool withLoss)
    {
        using var scope = NewDisposeScope();
        var x = HeadControllerTests.PlantedInput(5);
        using var layer = HeadControllerTests.Layer(heads: Heads);
        var opt = optim.Adam(layer.parameters().ToArray());
        double lambda = HeadControllerTests.ExactLambdaMax(layer, x);
        using var controller = new HeadController(new[] { layer }, opt, new ControllerOptions
        {
            Interval = 1, Estimator = new EstimatorOptions { Mode = EstimatorMode.Exact }, ThetaW = 1e-6 * lambda,
            MaxDwellCalls = 0, Prune = PruneStatistic.Reference, PhiG = 1e-12,
        });
        opt.zero_grad(); layer.forward(x).square().mean().backward(); opt.step();   // non-trivial optimizer state

        var p = AttentionTestHelpers.Params(layer);
        int last = Heads - 1;
        using (no_grad())
        {
            var poison = tensor(value, layer.PerHeadParameters[0].dtype);
            switch (where)
            {
                case "W_Q": p["in_proj_weight"][last, 0, 3, 1] = poison; break;
                case "W_K": p["in_proj_weight"][last, 1, 0, 0] = poison; break;
                case "W_V": p["in_proj_weight"][last, 2, 7, 2] = poison; break;
                case "W_O": p["out_proj_weight"][last, 1, 4] = poison; break;
                case "b_Q": p["in_proj_bias"][last, 0, 0] = poison; break;
                case "b_K": p["in_proj_bias"][last, 1, 2] = poison; break;
                case "b_V": p["in_proj_bias"][last, 2, 3] = poison; break;
                case "b_O": p["out_proj_bias"][5] = poison; break;
            }
        }
        var input = x;
        if (where == "input") { input = x.clone(); input[1, 2, 3] = tensor(value, ScalarType.Float32); }
        var paramsBefore = layer.named_parameters().ToDictionary(q => q.name, q => q.parameter.detach().clone());
        var stateBefore = OptimizerStateOracle.ReadAll(opt, layer);

        using (no_grad()) layer.forward(input);
        var events = controller.Step(0, withLoss ? 0.7 : null);

        if (where == "none")
        {
            events.Should().ContainSingle(e => e.Kind == HeadEventKind.Grew, "the unpoisoned call grows: the case can fail");
            layer.HeadCount.Should().Be(Heads + 1);
            return;
        }
        events.Should().ContainSingle().Which.Kind.Should().Be(HeadEventKind.SkippedNonFinite, $"non-finite {where}");
        layer.HeadCount.Should().Be(Heads);
        layer.HeadIds.Should().Equal(0, 1);
        controller.Basis(0).Count.Should().Be(0);
        controller.LastReading(0).Should().BeNull("a skipped call records no reading");
        foreach (var (name, q) in layer.named_parameters())
            q.detach().SameOrBothNaN(paramsBefore[name]).Should().BeTrue($"{name} is untouched (poisoned slot included)");
        foreach (var (name, st) in OptimizerStateOracle.ReadAll(opt, layer))
        {
            st.Step.Should().Be(stateBefore[name].Step);
            foreach (var (slot, t) in st.Tensors) t.Same(stateBefore[name].Tensors[slot]).Should().BeTrue($"{name}.{slot}");
        }

        // The next call on clean weights and input acts again.
        using (no_grad())
            foreach (var (name, q) in layer.named_parameters()) q.copy_(paramsBefore[name].nan_to_num(0, 0, 0));
        using (no_grad()) layer.forward(x);
        controller.Step(1, withLoss ? 0.7 : null).Should().Contain(e => e.Kind == HeadEventKind.Grew);
    }
}
