using FluentAssertions;
using Incrt.Tests.Attention;
using TorchSharp.Modules;
using Xunit;
using static Incrt.Tests.Surgery.OptimizerStateOracle;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

/// <summary>
/// Optimizer state after surgery, checked against TorchSharp's own state objects (<see cref="OptimizerStateOracle"/>)
/// and against a twin layer that had no surgery, instead of through the adapters under test.
/// </summary>
public class OptimizerStateTwinTests
{
    private const int D = 12, Dk = 4, Heads = 3, WarmSteps = 3;
    private const double Tol = 1e-12;

    private static GrowableMultiHeadAttention Layer() =>
        new(new AttentionOptions(D, HeadDim: Dk, InitialHeads: Heads, MaxHeads: 8, DType: ScalarType.Float64, Seed: 2));

    /// <summary>One step on the loss Σ y·r; the same (x, r) for the same <paramref name="step"/>.</summary>
    private static void Step(GrowableMultiHeadAttention layer, optim.Optimizer opt, int step)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(100 + (ulong)step);
        var x = randn(new long[] { 3, 5, D }, ScalarType.Float64, generator: gen);
        var r = randn(new long[] { 3, 5, D }, ScalarType.Float64, generator: gen);
        opt.zero_grad();
        (layer.forward(x) * r).sum().backward();
        opt.step();
    }

    public static TheoryData<Opt, NewHeadMoments> Cases()
    {
        var data = new TheoryData<Opt, NewHeadMoments>();
        foreach (var kind in Enum.GetValues<Opt>())
        foreach (var moments in Enum.GetValues<NewHeadMoments>())
            data.Add(kind, moments);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_step_after_function_preserving_growth_matches_a_twin_that_never_grew(Opt kind, NewHeadMoments moments)
    {
        using var scope = NewDisposeScope();
        using var grown = Layer();
        using var twin = Layer();
        var optG = Make(kind, grown.parameters().ToArray());
        var optT = Make(kind, twin.parameters().ToArray());
        for (int s = 0; s < WarmSteps; s++) { Step(grown, optG, s); Step(twin, optT, s); }

        var before = ReadAll(optG, grown);
        foreach (var (name, st) in ReadAll(optT, twin))
            foreach (var (slot, t) in st.Tensors)
                before[name].Tensors[slot].Same(t).Should().BeTrue($"the twins start identical ({name}.{slot})");
        if (IsAmsgrad(kind)) before["in_proj_weight"].Tensors.Should().ContainKey("max_exp_avg_sq");

        int h = HeadSurgery.AddHead(grown, optG, HeadInit.FunctionPreserving, moments);
        h.Should().Be(Heads);
        var pGrown = AttentionTestHelpers.Params(grown);
        var newSliceBefore = grown.PerHeadParameters.Select(p => p.detach()[h].clone()).ToArray();

        Step(grown, optG, WarmSteps);
        Step(twin, optT, WarmSteps);

        var pTwin = AttentionTestHelpers.Params(twin);
        var afterG = ReadAll(optG, grown);
        var afterT = ReadAll(optT, twin);
        foreach (var (name, p) in pTwin)
        {
            bool perHead = name != "out_proj_bias";
            var mine = perHead ? pGrown[name].detach().narrow(0, 0, Heads) : pGrown[name].detach();
            RelDiff(mine, p.detach()).Should().BeLessThan(Tol, $"{name}: kept heads take the twin's step");
            afterG[name].Step.Should().Be(afterT[name].Step, $"{name}: the step counter is the twin's");
            if (IsAdamFamily(kind)) afterG[name].Step.Should().Be(WarmSteps + 1);
            afterG[name].Tensors.Keys.Should().BeEquivalentTo(afterT[name].Tensors.Keys, name);
            foreach (var (slot, expected) in afterT[name].Tensors)
            {
                var actual = afterG[name].Tensors[slot];
                actual.shape.Should().Equal(pGrown[name].shape, $"{name}.{slot} follows its parameter's shape");
                RelDiff(perHead ? actual.narrow(0, 0, Heads) : actual, expected).Should().BeLessThan(Tol, $"{name}.{slot} of kept heads");
            }
        }

        // The new head's slice: one optimizer step from zero (or warm-started) state, computed here from its gradient.
        var perHeadNames = new[] { "in_proj_weight", "in_proj_bias", "out_proj_weight" };
        for (int i = 0; i < perHeadNames.Length; i++)
        {
            string name = perHeadNames[i];
            var p = pGrown[name];
            var g = p.grad![h];
            var (expectedParam, expectedState) = OneStepFromFresh(kind, moments, newSliceBefore[i], g, before[name], afterG[name].Step);
            RelDiff(p.detach()[h], expectedParam).Should().BeLessThan(Tol, $"{name}: the new head's first update");
            foreach (var (slot, t) in expectedState)
                RelDiff(afterG[name].Tensors[slot][h], t).Should().BeLessThan(Tol, $"{name}.{slot} of the new head");
        }
        pGrown["out_proj_weight"].grad![h].abs().max().item<double>().Should().BeGreaterThan(0, "the new head's W_O learns at once");
    }

    /// <summary>Reference update of one fresh slice (TorchSharp's formulas, written out).</summary>
    private static (Tensor Param, Dictionary<string, Tensor> State) OneStepFromFresh(Opt kind, NewHeadMoments moments,
        Tensor p0, Tensor g, ParamState preSurgery, long t)
    {
        if (!IsAdamFamily(kind))
        {
            // The momentum buffer of the new slice starts at zero: buf = μ·0 + g.
            return (p0 - Lr * g, new() { ["momentum_buffer"] = g.clone() });
        }
        Tensor Start(string slot) => moments == NewHeadMoments.WarmStart
            ? preSurgery.Tensors[slot].mean(new long[] { 0 })
            : zeros_like(g);
        var m = (1 - Beta1) * g;
        var v = Beta2 * Start("exp_avg_sq") + (1 - Beta2) * g * g;
        var state = new Dictionary<string, Tensor> { ["exp_avg"] = m, ["exp_avg_sq"] = v };
        var vHat = v;
        if (IsAmsgrad(kind)) state["max_exp_avg_sq"] = vHat = maximum(Start("max_exp_avg_sq"), v);
        var decayed = kind is Opt.AdamW or Opt.AdamWAmsgrad ? p0 * (1 - Lr * AdamWDecay) : p0;
        var denom = vHat.sqrt() / Math.Sqrt(1 - Math.Pow(Beta2, t)) + Eps;
        return (decayed - Lr / (1 - Math.Pow(Beta1, t)) * m / denom, state);
    }

    [Theory]
    [InlineData(Opt.AdamAmsgrad)]
    [InlineData(Opt.AdamWAmsgrad)]
    [InlineData(Opt.SgdMomentum)]
    public void Every_state_tensor_keeps_its_parameters_shape_and_kept_values_through_grow_step_and_multi_head_prune(Opt kind)
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        var opt = Make(kind, layer.parameters().ToArray());
        for (int s = 0; s < WarmSteps; s++) Step(layer, opt, s);

        void CheckShapes(string when)
        {
            foreach (var (name, p) in layer.named_parameters())
                foreach (var (slot, t) in Read(opt, p).Tensors)
                    t.shape.Should().Equal(p.shape, $"{name}.{slot} {when}");
        }

        var beforeGrow = ReadAll(opt, layer);
        HeadSurgery.AddHead(layer, opt, HeadInit.Random);
        CheckShapes("after growing 3 → 4");
        var afterGrow = ReadAll(opt, layer);
        foreach (var (name, st) in beforeGrow)
        {
            afterGrow[name].Step.Should().Be(st.Step, "surgery does not touch the step counter");
            foreach (var (slot, t) in st.Tensors)
            {
                var kept = name == "out_proj_bias" ? afterGrow[name].Tensors[slot] : afterGrow[name].Tensors[slot].narrow(0, 0, Heads);
                kept.Same(t).Should().BeTrue($"{name}.{slot} of kept heads is bit-identical");
            }
        }

        Step(layer, opt, WarmSteps);                      // the new head's state takes part in a real step
        var beforePrune = ReadAll(opt, layer);
        HeadSurgery.RemoveHeads(layer, opt, new[] { 0, 2 });
        CheckShapes("after pruning heads 0 and 2 (4 → 2)");
        layer.HeadIds.Should().Equal(1, 3);
        using var keep = tensor(new long[] { 1, 3 });
        foreach (var (name, st) in ReadAll(opt, layer))
            foreach (var (slot, t) in st.Tensors)
            {
                var expected = name == "out_proj_bias" ? beforePrune[name].Tensors[slot] : beforePrune[name].Tensors[slot].index_select(0, keep);
                t.Same(expected).Should().BeTrue($"{name}.{slot} of heads 1 and 3 after the prune");
            }

        Step(layer, opt, WarmSteps + 1);
        CheckShapes("after a step on the pruned layer");
        layer.PerHeadParameters.Should().OnlyContain(p => p.isfinite().all().item<bool>());
    }
}
