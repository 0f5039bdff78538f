using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Surgery;
using Incrt.Tests.Attention;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

public class HeadControllerTests
{
    internal const int D = 16;

    internal static GrowableMultiHeadAttention Layer(int heads = 1, int maxHeads = 12, ulong seed = 1) =>
        new(new AttentionOptions(D, HeadDim: 4, InitialHeads: heads, MaxHeads: maxHeads, Seed: seed));

    /// <summary>Inputs whose covariance has a few strong directions: the residual operator has a clear spectrum.</summary>
    internal static Tensor PlantedInput(int seed)
    {
        using var g = new Generator((ulong)seed);
        var scale = ones(D);
        scale[0] = tensor(4f); scale[1] = tensor(3f); scale[2] = tensor(2f);
        return randn(new long[] { 4, 8, D }, generator: g) * scale;
    }

    private static ControllerOptions Exact(double? theta = null) => new()
    {
        Interval = 1, Estimator = new EstimatorOptions { Mode = EstimatorMode.Exact }, ThetaW = theta,
        CalibrationCalls = 3, MaxDwellCalls = 0, Prune = PruneStatistic.None,
    };

    /// <summary>The unprojected operator sym(C·M_a) of <paramref name="layer"/> on <paramref name="x"/>, in float64 (Q empty).</summary>
    internal static Tensor UnprojectedOperator(GrowableMultiHeadAttention layer, Tensor x) =>
        ResidualOperator.Build(ResidualOperator.Covariance(x).to(ScalarType.Float64), layer.Motor().to(ScalarType.Float64));

    internal static double ExactLambdaMax(GrowableMultiHeadAttention layer, Tensor x)
    {
        using var scope = NewDisposeScope();
        return linalg.eigvalsh(UnprojectedOperator(layer, x)).max().item<double>();
    }

    [Fact]
    public void Grows_when_the_residual_energy_exceeds_theta_and_never_when_it_does_not()
    {
        using var scope = NewDisposeScope();
        var x = PlantedInput(1);
        using var grows = Layer();
        using var stays = Layer();
        double lambda = ExactLambdaMax(grows, x);
        lambda.Should().BeGreaterThan(0);

        using var high = new HeadController(new[] { grows }, null, Exact(theta: 0.5 * lambda));
        using var low = new HeadController(new[] { stays }, null, Exact(theta: 1.01 * lambda));
        grows.forward(x); stays.forward(x);
        var e1 = high.Step(0);
        var e2 = low.Step(0);

        e1.Should().ContainSingle(e => e.Kind == HeadEventKind.Grew);
        grows.HeadCount.Should().Be(2);
        e2.Should().BeEmpty();
        stays.HeadCount.Should().Be(1);
        for (int s = 1; s < 10; s++) { stays.forward(x); low.Step(s); }
        stays.HeadCount.Should().Be(1, "λmax stays below θ_w for a layer that does not train");
    }

    [Fact]
    public void Growth_waits_for_the_dwell_time_between_heads()
    {
        using var scope = NewDisposeScope();
        var x = PlantedInput(2);
        using var layer = Layer(maxHeads: 12);
        double lambda = ExactLambdaMax(layer, x);
        using var controller = new HeadController(new[] { layer }, null, Exact(theta: 1e-6 * lambda) with { MaxDwellCalls = 4 });
        var growCalls = new List<long>();
        controller.HeadChanged += (_, e) => { if (e.Kind == HeadEventKind.Grew) growCalls.Add(e.Call); };
        for (int s = 0; s < 20; s++) { layer.forward(x); controller.Step(s); }

        growCalls.Should().HaveCountGreaterThan(2);
        growCalls.Zip(growCalls.Skip(1), (a, b) => b - a).Should().OnlyContain(gap => gap >= 4, "T_d = 4 calls must pass between growths");
        GrowthGate.DwellCalls(0.5, 0.01, 2, 0.05, 10_000, null).Should().Be((long)Math.Ceiling(2 * Math.Log(20) / (0.01 * 0.25)));
        GrowthGate.DwellCalls(1e-9, 0.01, 2, 0.05, 10_000, null).Should().Be(10_000);
    }

    [Theory]
    [InlineData(PruneStatistic.Reference)]
    [InlineData(PruneStatistic.MinorDirection)]
    public void Prune_fires_on_a_planted_dead_head_and_spares_live_ones(PruneStatistic statistic)
    {
        using var scope = NewDisposeScope();
        var x = PlantedInput(3);
        using var layer = Layer(heads: 3);
        using (no_grad())
            AttentionTestHelpers.Params(layer)["in_proj_weight"][1, 0].zero_();   // head 1: W_Q = 0 ⇒ M_a,1 = 0
        var opt = optim.Adam(layer.parameters().ToArray());
        var options = Exact(theta: 1e9) with { Prune = statistic, PruneWindow = 5, PruneAgeGuard = 2, PhiG = 1e-6 };
        using var controller = new HeadController(new[] { layer }, opt, options);

        var events = new List<HeadEvent>();
        for (int s = 0; s < 30; s++) { layer.forward(x); events.AddRange(controller.Step(s)); }

        events.Where(e => e.Kind == HeadEventKind.Pruned).Should().ContainSingle().Which.HeadId.Should().Be(1);
        layer.HeadIds.Should().Equal(0, 2);
        events.Single(e => e.Kind == HeadEventKind.Pruned).Call.Should().BeGreaterThanOrEqualTo(4, "the window of 5 calls must pass");
    }

    [Fact]
    public void Q_stays_orthonormal_and_tracks_living_heads_through_grow_and_prune()
    {
        using var scope = NewDisposeScope();
        var x = PlantedInput(4);
        using var layer = Layer(maxHeads: 10);
        double lambda = ExactLambdaMax(layer, x);
        // Every call wants to grow, and every head is redundant (φ_g huge): heads are pruned once 4 calls old.
        var options = Exact(theta: 1e-6 * lambda) with { Prune = PruneStatistic.Reference, PhiG = 1e9, PruneWindow = 2, PruneAgeGuard = 4 };
        using var controller = new HeadController(new[] { layer }, null, options);
        var events = new List<HeadEvent>();
        var everOwned = new HashSet<long>();
        for (int s = 0; s < 25; s++)
        {
            layer.forward(x);
            events.AddRange(controller.Step(s));
            var q = controller.Basis(0).Matrix;
            var owners = controller.BasisOwners(0);
            owners.Should().HaveCount((int)q.shape[1]).And.OnlyHaveUniqueItems()
                .And.BeSubsetOf(layer.HeadIds, "a pruned head's column leaves Q with it");
            everOwned.UnionWith(owners);
            if (q.shape[1] == 0) continue;
            var gram = q.t().matmul(q);
            (gram - eye(q.shape[1], dtype: ScalarType.Float64)).abs().max().item<double>().Should().BeLessThan(1e-10);
        }
        events.Should().Contain(e => e.Kind == HeadEventKind.Grew);
        var pruned = events.Where(e => e.Kind == HeadEventKind.Pruned).Select(e => e.HeadId).ToList();
        pruned.Should().Contain(id => everOwned.Contains(id), "a head that owned a Q column was pruned");
        controller.BasisOwners(0).Should().NotIntersectWith(pruned);
    }

    [Fact]
    public void Non_finite_values_change_neither_the_architecture_nor_the_optimizer_state()
    {
        using var scope = NewDisposeScope();
        var x = PlantedInput(5);
        using var layer = Layer();
        var opt = optim.Adam(layer.parameters().ToArray());
        double lambda = ExactLambdaMax(layer, x);
        using var controller = new HeadController(new[] { layer }, opt, Exact(theta: 1e-6 * lambda));
        // One real training step so the optimizer state is non-trivial.
        opt.zero_grad(); layer.forward(x).square().mean().backward(); opt.step();
        var paramsBefore = layer.parameters().Select(p => p.detach().clone()).ToArray();
        var stateBefore = HeadSurgery.CollectSlots(layer, opt).Where(s => s.Get() is not null).Select(s => s.Get()!.clone()).ToArray();

        var events = new List<HeadEvent>();
        layer.forward(x);
        events.AddRange(controller.Step(0, loss: double.NaN));
        var bad = x.clone(); bad[0, 0, 0] = tensor(float.PositiveInfinity);
        layer.forward(bad);
        events.AddRange(controller.Step(1));
        using (no_grad()) AttentionTestHelpers.Params(layer)["in_proj_weight"][0, 0, 0, 0] = tensor(float.NaN);
        paramsBefore[0][0, 0, 0, 0] = tensor(float.NaN);       // the expected in_proj_weight: poisoned, otherwise unchanged
        layer.forward(x);
        events.AddRange(controller.Step(2));

        events.Should().HaveCount(3).And.OnlyContain(e => e.Kind == HeadEventKind.SkippedNonFinite);
        layer.HeadCount.Should().Be(1);
        controller.Basis(0).Count.Should().Be(0);
        HeadSurgery.CollectSlots(layer, opt).Where(s => s.Get() is not null).Select(s => s.Get()!).Zip(stateBefore).Should().OnlyContain(p => p.First.Same(p.Second));
        layer.parameters().Zip(paramsBefore).Should().OnlyContain(p => p.First.detach().SameOrBothNaN(p.Second),
            "every parameter, the poisoned one included, is untouched");
    }

    [Fact]
    public void Rejects_an_optimizer_that_does_not_own_the_layer_and_a_layer_of_another_model()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer();
        using var other = nn.Linear(D, D);
        var foreign = optim.Adam(other.parameters().ToArray());
        var act = () => new HeadController(new[] { layer }, foreign);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("optimizer");

        var model = nn.Sequential(("lin", (nn.Module<Tensor, Tensor>)nn.Linear(D, D)));
        var act2 = () => new HeadController(new[] { layer }, null, model: model);
        act2.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("layers");
    }

    [Theory]
    [InlineData("Interval")]
    [InlineData("ThetaW")]
    [InlineData("Epsilon")]
    [InlineData("PruneWindow")]
    [InlineData("KappaT")]
    public void Rejects_out_of_range_settings_naming_them(string setting)
    {
        var o = setting switch
        {
            "Interval" => new ControllerOptions { Interval = 0 },
            "ThetaW" => new ControllerOptions { ThetaW = double.NaN },
            "Epsilon" => new ControllerOptions { Epsilon = 1.5 },
            "PruneWindow" => new ControllerOptions { PruneWindow = -1 },
            _ => new ControllerOptions { KappaT = -2 },
        };
        o.Invoking(x => x.Validate()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(setting);
    }
}
