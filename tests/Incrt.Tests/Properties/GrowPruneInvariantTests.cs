using CsCheck;
using FluentAssertions;
using Incrt.Persistence;
using Incrt.Tests.Attention;
using Incrt.Tests.Surgery;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Properties;

/// <summary>
/// Random sequences of {train step, grow (each HeadInit), prune one or two heads, controller call on random-energy
/// inputs, NaN in a weight at a controller call, save + load (then carry on with the loaded copy)} on a two-layer model
/// trained with AdamW, Adam AMSGrad or SGD with momentum keep every invariant after every operation; CsCheck shrinks a
/// failure to a minimal sequence. Each case seeds torch's global RNG with its own seed (printed with the case), so a
/// printed failure replays exactly. Iterations default to 60; set INCRT_PROPERTY_ITER for a longer run
/// (e.g. INCRT_PROPERTY_ITER=2000 dotnet test --filter Properties).
/// </summary>
public class GrowPruneInvariantTests
{
    private const int D = 8, Layers = 2, ProbeB = 2, ProbeT = 5;
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("INCRT_PROPERTY_ITER"), out var n) ? n : 60;

    public enum Op { Train, GrowRandom, GrowPreserving, GrowSeeded, Prune, Control, SaveLoad, Poison }

    public enum OptKind { AdamW, AdamAmsgrad, SgdMomentum }

    public sealed record Case(int TorchSeed, OptKind Optimizer, (Op Op, int Arg)[] Ops)
    {
        public override string ToString() =>
            $"torch seed {TorchSeed}, {Optimizer}: {string.Join(", ", Ops.Select(o => $"{o.Op}({o.Arg})"))}";
    }

    private static readonly Gen<Case> Cases =
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Enum<OptKind>(), Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1000]).Array[1, 24])
            .Select(t => new Case(t.Item1, t.Item2, t.Item3));

    private static readonly ControllerOptions Control = new()
    {
        Interval = 1, ThetaW = 1e-3, MaxDwellCalls = 0, PruneWindow = 1, PruneAgeGuard = 0, PhiG = 2e-3,
    };

    [Fact]
    public void Every_operation_sequence_keeps_shapes_moments_basis_and_outputs_consistent()
    {
        Cases.Sample(c => { Execute(c); }, iter: Iterations, threads: 1, print: c => c.ToString());
    }

    [Fact]
    public void A_printed_case_replays_exactly_whatever_the_global_RNG_did_before()
    {
        var c = new Case(4242, OptKind.AdamAmsgrad, new[]
        {
            (Op.Train, 3), (Op.GrowRandom, 1), (Op.Control, 40), (Op.Train, 8), (Op.SaveLoad, 0), (Op.Prune, 3), (Op.Train, 5),
            (Op.GrowSeeded, 2), (Op.Poison, 17), (Op.Train, 9),
        });
        manual_seed(1);
        var first = Execute(c);
        using (randn(1000)) { }                          // the global RNG moves on between runs
        manual_seed(2);
        var second = Execute(c);
        second.Should().Equal(first);
    }

    private static optim.Optimizer MakeOptimizer(OptKind kind, IncrtClassifier model) => kind switch
    {
        OptKind.AdamW => optim.AdamW(model.parameters().ToArray(), lr: 1e-2),
        OptKind.AdamAmsgrad => optim.Adam(model.parameters().ToArray(), lr: 1e-2, amsgrad: true),
        _ => optim.SGD(model.parameters().ToArray(), 1e-2, momentum: 0.9),
    };

    /// <summary>Runs one case and returns a fingerprint per operation (Σ|parameters| in float64 and head counts).</summary>
    internal static List<double> Execute(Case c)
    {
        using var scope = NewDisposeScope();
        manual_seed(c.TorchSeed);                        // embeddings, FFN and classifier are drawn from the global RNG
        var model = new IncrtClassifier(new IncrtModelOptions(VocabSize: 20, MaxLength: 8, DModel: D, HeadDim: 2, Layers: Layers,
            MaxHeads: 5, Dropout: 0, Seed: (ulong)c.TorchSeed));
        model.eval();
        var opt = MakeOptimizer(c.Optimizer, model);
        var controller = new HeadController(model.GrowableLayers, opt, Control);
        var owned = new List<IDisposable> { model, opt, controller };
        using var gen = new Generator((ulong)c.TorchSeed + 7);
        var probe = randn(new long[] { ProbeB, ProbeT, D }, generator: gen);
        var probeMask = AttentionTestHelpers.PaddingMask(ProbeB, ProbeT, seed: c.TorchSeed);
        var everSeen = model.GrowableLayers.Select(l => l.HeadIds.ToHashSet()).ToArray();
        var fingerprint = new List<double>();
        long step = 0;
        try
        {
            foreach (var (op, arg) in c.Ops)
            {
                // The loaded copy must outlive its operation: SaveLoad's tensors live in the case's scope.
                using var opScope = op == Op.SaveLoad ? null : NewDisposeScope();
                var layers = model.GrowableLayers;
                int li = arg % Layers;
                var layer = layers[li];
                int h = layer.HeadCount;
                var before = layers.Select(l => Snapshot(l, opt)).ToArray();
                var idsBefore = layers.Select(l => l.HeadIds.ToArray()).ToArray();
                var outBefore = layers.Select(l => l.forward(probe, probeMask)).ToArray();
                var kept = layers.Select(l => (int[]?)Enumerable.Range(0, l.HeadCount).ToArray()).ToArray();
                var grewAt = new int?[Layers];
                switch (op)
                {
                    case Op.Train:
                        opt.zero_grad();
                        var ids = randint(3, 20, new long[] { 3, 6 }, generator: gen);
                        model.forward(ids, AttentionTestHelpers.PaddingMask(3, 6, seed: arg)).square().mean().backward();
                        opt.step();
                        Array.Fill(kept, null);
                        break;
                    case Op.SaveLoad:
                        (model, opt, controller) = RoundTrip(model, opt, controller, c.Optimizer);
                        owned.AddRange(new IDisposable[] { model, opt, controller });
                        layers = model.GrowableLayers;
                        break;
                    case Op.GrowRandom or Op.GrowPreserving or Op.GrowSeeded when h < layer.Options.MaxHeads:
                        var u = Enumerable.Range(0, D).Select(i => Math.Sin(arg + i)).ToArray();
                        var init = op switch
                        {
                            Op.GrowRandom => HeadInit.Random,
                            Op.GrowPreserving => HeadInit.FunctionPreserving,
                            _ => HeadInit.EigenSeeded(u),
                        };
                        grewAt[li] = HeadSurgery.AddHead(layer, opt, init);
                        if (op == Op.GrowPreserving)
                        {
                            var outAfter = layer.forward(probe, probeMask);
                            double scale = 1 + outBefore[li].abs().max().item<float>();
                            (outAfter - outBefore[li]).abs().max().item<float>().Should().BeLessThanOrEqualTo((float)(1e-6 * scale),
                                "function-preserving growth leaves the output unchanged (relative to its magnitude)");
                        }
                        break;
                    case Op.Prune when h > 1:
                        int v1 = arg % h, v2 = (v1 + 1 + arg / 7 % (h - 1)) % h;
                        var victims = arg % 4 >= 2 && h > 2 ? new[] { v1, v2 } : new[] { v1 };
                        HeadSurgery.RemoveHeads(layer, opt, victims);
                        kept[li] = Enumerable.Range(0, h).Where(i => !victims.Contains(i)).ToArray();
                        break;
                    case Op.Control:
                        foreach (var l in layers) l.forward(randn(new long[] { 2, 6, D }, generator: gen) * (0.01 + arg / 100.0));
                        FromEvents(controller.Step(step++), layers, kept, grewAt);
                        break;
                    case Op.Poison:
                        var (name, p) = layer.named_parameters().ElementAt(arg % 4);
                        var flat = p.detach().view(-1);
                        long at = arg / 4 % flat.shape[0];
                        var saved = flat[at].clone();
                        using (no_grad()) flat[at] = tensor(float.NaN);
                        foreach (var l in layers) l.forward(probe, probeMask);
                        var events = controller.Step(step++);
                        events.Where(e => e.Layer == li).Should().ContainSingle($"one event for the layer with NaN in {name}")
                            .Which.Kind.Should().Be(HeadEventKind.SkippedNonFinite);
                        using (no_grad()) flat[at] = saved;
                        FromEvents(events, layers, kept, grewAt);
                        break;
                }
                for (int i = 0; i < Layers; i++)
                {
                    CheckInvariants(layers[i], i, opt, controller, probe, probeMask);
                    if (kept[i] is { } k) CheckKept(before[i], Snapshot(layers[i], opt), k);
                    if (grewAt[i] is { } g) CheckNewHeadStateIsZero(layers[i], opt, g);
                    var fresh = layers[i].HeadIds.Except(idsBefore[i]).ToList();
                    fresh.Should().NotIntersectWith(everSeen[i], "head ids are never reused");
                    everSeen[i].UnionWith(layers[i].HeadIds);
                }
                using (no_grad())
                    fingerprint.Add(model.parameters().Sum(q => q.to(ScalarType.Float64).abs().sum().item<double>()));
                fingerprint.AddRange(layers.Select(l => (double)l.HeadCount));
            }
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
        return fingerprint;
    }

    /// <summary>Per layer: a growth keeps every old head and adds one at the end; a prune keeps all but one.</summary>
    private static void FromEvents(IReadOnlyList<HeadEvent> events, IReadOnlyList<GrowableMultiHeadAttention> layers, int[]?[] kept, int?[] grewAt)
    {
        foreach (var e in events)
        {
            if (e.Kind == HeadEventKind.Grew) grewAt[e.Layer] = e.HeadIndex;
            if (e.Kind == HeadEventKind.Pruned)
                kept[e.Layer] = Enumerable.Range(0, layers[e.Layer].HeadCount + 1).Where(i => i != e.HeadIndex).ToArray();
        }
    }

    /// <summary>Saves, loads, checks the copy, and returns it (model, restored optimizer, restored controller) so the
    /// sequence carries on with the loaded copy.</summary>
    private static (IncrtClassifier, optim.Optimizer, HeadController) RoundTrip(IncrtClassifier model, optim.Optimizer opt,
        HeadController controller, OptKind kind)
    {
        var path = Path.Combine(Path.GetTempPath(), $"incrt-prop-{Guid.NewGuid():N}.incrt");
        try
        {
            IncrtCheckpoint.Save(path, model, opt, controller);
            var loaded = IncrtCheckpoint.Load(path);
            var copy = loaded.Model;
            copy.eval();
            for (int i = 0; i < Layers; i++)
            {
                copy.GrowableLayers[i].HeadIds.Should().Equal(model.GrowableLayers[i].HeadIds);
                copy.GrowableLayers[i].NextHeadId.Should().Be(model.GrowableLayers[i].NextHeadId);
            }
            var original = AttentionTestHelpers.Params(model);
            foreach (var (name, p) in copy.named_parameters())
                p.Same(original[name]).Should().BeTrue($"{name} survives save + load");
            var opt2 = MakeOptimizer(kind, copy);
            loaded.RestoreOptimizer(opt2);
            var controller2 = loaded.CreateController(opt2);
            for (int i = 0; i < Layers; i++)
            {
                controller2.Basis(i).Matrix.Same(controller.Basis(i).Matrix).Should().BeTrue("Q survives save + load");
                controller2.BasisOwners(i).Should().Equal(controller.BasisOwners(i));
            }
            return (copy, opt2, controller2);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The layer's per-head parameters and their optimizer state, read from TorchSharp's own state objects.</summary>
    private static List<Tensor> Snapshot(GrowableMultiHeadAttention layer, optim.Optimizer opt) =>
        layer.PerHeadParameters.Select(p => p.detach().clone())
            .Concat(layer.PerHeadParameters.SelectMany(p => OptimizerStateOracle.Read(opt, p).Tensors.OrderBy(kv => kv.Key).Select(kv => kv.Value)))
            .ToList();

    private static void CheckKept(List<Tensor> before, List<Tensor> after, int[] kept)
    {
        after.Should().HaveCount(before.Count, "no optimizer state tensor appears or disappears");
        using var keep = tensor(kept.Select(i => (long)i).ToArray());
        for (int i = 0; i < before.Count; i++)
            after[i].narrow(0, 0, kept.Length).Same(before[i].index_select(0, keep))
                .Should().BeTrue("kept heads' parameters and moments are bit-identical");
    }

    private static void CheckNewHeadStateIsZero(GrowableMultiHeadAttention layer, optim.Optimizer opt, int index)
    {
        foreach (var p in layer.PerHeadParameters)
            foreach (var (slot, t) in OptimizerStateOracle.Read(opt, p).Tensors)
                t[index].abs().max().item<float>().Should().Be(0f, $"{slot} of the new head starts at zero");
    }

    private static void CheckInvariants(GrowableMultiHeadAttention layer, int index, optim.Optimizer opt, HeadController controller,
        Tensor probe, Tensor probeMask)
    {
        int h = layer.HeadCount;
        layer.HeadIds.Should().HaveCount(h).And.OnlyHaveUniqueItems();
        foreach (var p in layer.parameters())
            foreach (var (slot, t) in OptimizerStateOracle.Read(opt, p).Tensors)
                t.shape.Should().Equal(p.shape, $"{slot} follows its parameter's shape");
        var q = controller.Basis(index).Matrix;
        controller.BasisOwners(index).Should().HaveCount((int)q.shape[1]).And.OnlyHaveUniqueItems()
            .And.BeSubsetOf(layer.HeadIds, "every Q column belongs to a living head");
        if (q.shape[1] > 0)
            (q.t().matmul(q) - eye(q.shape[1], dtype: q.dtype)).abs().max().item<double>().Should().BeLessThan(1e-8, "Q is orthonormal");

        // The fused forward pass against the per-head loop in float64, relative to the output's magnitude.
        var p64 = AttentionTestHelpers.Params(layer).ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(ScalarType.Float64));
        var reference = AttentionTestHelpers.LoopReference(probe.to(ScalarType.Float64), probeMask, p64["in_proj_weight"],
            p64["in_proj_bias"], p64["out_proj_weight"], p64["out_proj_bias"], mean: false);
        var actual = layer.forward(probe, probeMask);
        actual.isfinite().all().item<bool>().Should().BeTrue();
        double scale = 1 + reference.abs().max().item<double>();
        ((actual.to(ScalarType.Float64) - reference).abs().max().item<double>() / scale).Should().BeLessThan(1e-5,
            "the output matches the per-head reference");
    }
}
