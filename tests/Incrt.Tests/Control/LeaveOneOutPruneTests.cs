using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Surgery;
using Incrt.Tests.Attention;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary><see cref="PruneStatistic.LeaveOneOut"/>: a head is pruned when the layer without it stays sufficient.</summary>
public class LeaveOneOutPruneTests
{
    private const int D = HeadControllerTests.D;

    private static GrowableMultiHeadAttention Layer(int heads, int maxHeads = 8, ulong seed = 1) =>
        HeadControllerTests.Layer(heads, maxHeads, seed);

    private static ControllerOptions LeaveOneOut(double theta, int window = 3, int age = 0) => new()
    {
        Interval = 1, Estimator = new EstimatorOptions { Mode = EstimatorMode.Exact }, ThetaW = theta, MaxDwellCalls = 0,
        Prune = PruneStatistic.LeaveOneOut, LeaveOneOutWindow = window, LeaveOneOutAgeGuard = age,
    };

    /// <summary>One token per axis: C = diag(s²)/D exactly, so every plane's energy is known in closed form.</summary>
    private static Tensor AxisInput(params float[] scales)
    {
        var x = zeros(1, D, D);
        for (int i = 0; i < scales.Length; i++) x[0, i, i] = tensor(scales[i]);
        return x;
    }

    /// <summary>Head h's W_Q, W_K set to columns: column j of W_Q is sign·e_{from}, of W_K e_{to} (M_h = Σ sign·e_from e_toᵀ).</summary>
    private static void Plant(GrowableMultiHeadAttention layer, int head, params (int From, int To, float Sign)[] columns)
    {
        using var _ = no_grad();
        var w = AttentionTestHelpers.Params(layer)["in_proj_weight"];
        w[head, 0].zero_();
        w[head, 1].zero_();
        for (int j = 0; j < columns.Length; j++)
        {
            w[head, 0, columns[j].From, j] = tensor(columns[j].Sign);
            w[head, 1, columns[j].To, j] = tensor(1f);
        }
    }

    [Fact]
    public void Leave_one_out_energy_equals_removing_each_head_and_its_column_one_at_a_time()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(heads: 3, seed: 4);
        using var g = new Generator(9);
        var x = randn(new long[] { 3, 10, D }, generator: g, dtype: ScalarType.Float64);
        var c = ResidualOperator.Covariance(x);
        var forms = layer.AntisymmetricForms().to(ScalarType.Float64);
        var full = ResidualOperator.Build(c, forms.sum(new long[] { 0 }));
        using var basis = new CapturedBasis(D, ScalarType.Float64);
        basis.Append(randn(D, generator: g, dtype: ScalarType.Float64));
        basis.Append(randn(D, generator: g, dtype: ScalarType.Float64));
        var columnOfHead = new[] { -1, 1, 0 };   // head 0 owns no column (an initial head), heads 1 and 2 one each

        var r = LeaveOneOutEnergy.Compute(c, full, forms, basis, columnOfHead);

        for (int h = 0; h < 3; h++)
        {
            using var reduced = new CapturedBasis(D, ScalarType.Float64);
            for (int j = 0; j < basis.Count; j++)
                if (j != columnOfHead[h]) reduced.Append(basis.Matrix.select(1, j));
            var motor = forms.sum(new long[] { 0 }) - forms[h];
            double lambda = linalg.eigvalsh(ResidualOperator.Build(c, motor, reduced)).max().item<double>();
            double energy = ResidualOperator.Build(c, motor).norm().item<double>();
            r.LambdaMax[h].Should().BeApproximately(lambda, 1e-10 * Math.Max(1, Math.Abs(lambda)));
            r.Energy[h].Should().BeApproximately(energy, 1e-10 * Math.Max(1, energy));
        }
    }

    [Fact]
    public void Prunes_one_of_two_duplicate_heads_after_the_window_and_never_the_last_head()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(heads: 2);
        using (no_grad())
        {
            var w = AttentionTestHelpers.Params(layer)["in_proj_weight"];
            w[1].copy_(w[0]);                                                       // head 1 duplicates head 0's M_a
        }
        var x = AxisInput(2, 1, 2, 1, 1.5f, 0.5f);
        var opt = optim.Adam(layer.parameters().ToArray());
        opt.zero_grad(); layer.forward(x).square().mean().backward(); opt.step();  // non-trivial moments
        var survivorMoments = HeadSurgery.CollectSlots(layer, opt).Select(s => s.Get()).Where(t => t is not null).Select(t => t![1].clone()).ToList();
        // Without either duplicate the operator halves: λ' = λ/2 ≤ θ_w, so each is redundant by the growth criterion itself.
        double lambda = HeadControllerTests.ExactLambdaMax(layer, x);
        using var controller = new HeadController(new[] { layer }, opt, LeaveOneOut(theta: 1.01 * lambda, window: 3));

        var events = new List<HeadEvent>();
        for (int s = 0; s < 20; s++) { layer.forward(x); events.AddRange(controller.Step(s)); }

        var pruned = events.Where(e => e.Kind == HeadEventKind.Pruned).Should().ContainSingle().Subject;
        pruned.Call.Should().Be(2, "the head must stay redundant for the 3-call window first");
        pruned.Statistic.Should().BeApproximately(0.5 / 1.01, 1e-6);
        events.Should().NotContain(e => e.Kind == HeadEventKind.Grew);
        layer.HeadCount.Should().Be(1, "the survivor is the layer's last head and is never pruned");
        controller.LastPruneStatistics(0).Should().Equal(double.PositiveInfinity);
        HeadSurgery.CollectSlots(layer, opt).Select(s => s.Get()).Where(t => t is not null).Select(t => t!)
            .Should().OnlyContain(t => t.shape[0] == 1, "the optimizer state follows the head count");
        var after = HeadSurgery.CollectSlots(layer, opt).Select(s => s.Get()).Where(t => t is not null).Select(t => t![0]).ToList();
        after.Zip(survivorMoments).Should().OnlyContain(p => p.First.Same(p.Second), "the kept head's moments are untouched");
    }

    [Fact]
    public void Spares_heads_that_are_each_needed_to_keep_the_residual_energy_below_theta()
    {
        using var scope = NewDisposeScope();
        var x = AxisInput(2, 1, 2, 1);                                              // C = diag(4, 1, 4, 1, 0, …)/16
        using var layer = Layer(heads: 1, maxHeads: 2);
        Plant(layer, 0, (0, 1, 1f));                                                // energy in the (e0, e1) plane
        double plane = HeadControllerTests.ExactLambdaMax(layer, x);                                         // 3/64: (c0 − c1)/4
        using var controller = new HeadController(new[] { layer }, null, LeaveOneOut(theta: plane / 2));
        layer.forward(x);
        controller.Step(0).Should().ContainSingle(e => e.Kind == HeadEventKind.Grew, "λmax = 2 θ_w: the controller grows head 1");
        controller.BasisOwners(0).Should().Equal(1L);                               // head 1 owns u+ of the (e0, e1) plane
        // Now head 0 turns (e2, e3) one way and head 1 the other way plus the (e0, e1) plane its column captures:
        // together λmax = 0, but without either head the (e2, e3) plane is uncaptured at λ' = 2 θ_w.
        Plant(layer, 0, (2, 3, 1f));
        Plant(layer, 1, (2, 3, -1f), (0, 1, 1f));

        var events = new List<HeadEvent>();
        for (int s = 1; s < 20; s++) { layer.forward(x); events.AddRange(controller.Step(s)); }

        events.Should().NotContain(e => e.Kind == HeadEventKind.Pruned || e.Kind == HeadEventKind.Grew);
        layer.HeadCount.Should().Be(2);
        // λ'/θ_w = 2 for each head; the Lanczos reading stops at a lower bound once it is above 1 (decided useful).
        controller.LastPruneStatistics(0).Should().OnlyContain(s => s > 1 && s < 2 + 1e-6);
        controller.RedundantHeads(0).Should().Be(0);
        controller.IsConverged.Should().BeTrue("sufficient (λmax = 0 ≤ θ_w) and minimal (no redundant head)");
    }

    [Fact]
    public void Non_finite_calls_never_prune_and_the_next_finite_call_does()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(heads: 2);
        using (no_grad()) { var w = AttentionTestHelpers.Params(layer)["in_proj_weight"]; w[1].copy_(w[0]); }
        var x = AxisInput(2, 1, 2, 1);
        using var controller = new HeadController(new[] { layer }, null, LeaveOneOut(theta: 1.01 * HeadControllerTests.ExactLambdaMax(layer, x), window: 1));
        var bad = x.clone(); bad[0, 0, 0] = tensor(float.NaN);

        layer.forward(x);
        var e1 = controller.Step(0, loss: double.NaN);
        layer.forward(bad);
        var e2 = controller.Step(1);

        e1.Concat(e2).Should().HaveCount(2).And.OnlyContain(e => e.Kind == HeadEventKind.SkippedNonFinite);
        layer.HeadCount.Should().Be(2);
        layer.forward(x);
        controller.Step(2).Should().ContainSingle(e => e.Kind == HeadEventKind.Pruned, "the same layer is redundant once the input is finite");
    }

    [Fact]
    public void Grow_and_prune_cycles_keep_Q_orthonormal_owned_by_living_heads_and_the_optimizer_state_in_step()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(heads: 1, maxHeads: 6);
        using var g = new Generator(5);
        var scale = ones(D); scale[0] = tensor(4f); scale[1] = tensor(3f); scale[2] = tensor(2f);
        var x = randn(new long[] { 4, 8, D }, generator: g) * scale;
        var opt = optim.Adam(layer.parameters().ToArray(), lr: 1e-3);
        // θ_w tiny: every call wants to grow; ratio huge: every head is redundant; window 2: grow, then prune.
        var options = LeaveOneOut(theta: 1e-9, window: 2) with { LeaveOneOutRatio = 1e12 };
        using var controller = new HeadController(new[] { layer }, opt, options);
        var kinds = new List<HeadEventKind>();
        for (int s = 0; s < 30; s++)
        {
            opt.zero_grad(); layer.forward(x).square().mean().backward(); opt.step();
            kinds.AddRange(controller.Step(s).Select(e => e.Kind));

            var q = controller.Basis(0).Matrix;
            if (q.shape[1] > 0)
                (q.t().matmul(q) - eye(q.shape[1], dtype: q.dtype)).abs().max().item<double>().Should().BeLessThan(1e-10);
            controller.BasisOwners(0).Should().OnlyHaveUniqueItems().And.BeSubsetOf(layer.HeadIds);
            HeadSurgery.CollectSlots(layer, opt).Select(sl => sl.Get()).Where(t => t is not null)
                .Should().OnlyContain(t => t!.shape[0] == layer.HeadCount);
        }
        kinds.Should().Contain(HeadEventKind.Grew).And.Contain(HeadEventKind.Pruned);
        layer.HeadCount.Should().Be(1 + kinds.Count(k => k == HeadEventKind.Grew) - kinds.Count(k => k == HeadEventKind.Pruned));
    }

    [Theory]
    [InlineData("LeaveOneOutRatio")]
    [InlineData("LeaveOneOutWindow")]
    [InlineData("LeaveOneOutAgeGuard")]
    public void Rejects_out_of_range_leave_one_out_settings_naming_them(string setting)
    {
        var o = setting switch
        {
            "LeaveOneOutRatio" => new ControllerOptions { LeaveOneOutRatio = double.NaN },
            "LeaveOneOutWindow" => new ControllerOptions { LeaveOneOutWindow = 0 },
            _ => new ControllerOptions { LeaveOneOutAgeGuard = -1 },
        };
        o.Invoking(v => v.Validate()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(setting);
    }
}
