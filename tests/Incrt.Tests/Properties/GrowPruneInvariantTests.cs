using CsCheck;
using FluentAssertions;
using Incrt.Persistence;
using Incrt.Tests.Attention;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Properties;

/// <summary>
/// Random sequences of {train step, grow (each HeadInit), prune, controller call on random-energy inputs, save + load}
/// keep every
/// invariant after every operation; CsCheck shrinks a failure to a minimal sequence. Iterations default to 60;
/// set INCRT_PROPERTY_ITER for a longer run (e.g. INCRT_PROPERTY_ITER=2000 dotnet test --filter Properties).
/// </summary>
public class GrowPruneInvariantTests
{
    private const int D = 8;
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("INCRT_PROPERTY_ITER"), out var n) ? n : 60;

    private enum Op { Train, GrowRandom, GrowPreserving, GrowSeeded, Prune, Control, SaveLoad }

    private static readonly Gen<(Op Op, int Arg)[]> Sequences =
        Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1000]).Array[1, 24];

    [Fact]
    public void Every_operation_sequence_keeps_shapes_moments_basis_and_outputs_consistent()
    {
        Sequences.Sample(Run, iter: Iterations, threads: 1,
            print: ops => string.Join(", ", ops.Select(o => $"{o.Op}({o.Arg})")));
    }

    private static void Run((Op Op, int Arg)[] ops)
    {
        using var scope = NewDisposeScope();
        using var model = new IncrtClassifier(new IncrtModelOptions(VocabSize: 20, MaxLength: 8, DModel: D, HeadDim: 2,
            MaxHeads: 5, Dropout: 0, Seed: 1));
        model.eval();
        var layer = model.GrowableLayers[0];
        var opt = optim.AdamW(model.parameters().ToArray(), lr: 1e-2);
        using var controller = new HeadController(new[] { layer }, opt, new ControllerOptions
        {
            Interval = 1, ThetaW = 1e-3, MaxDwellCalls = 0, PruneWindow = 1, PruneAgeGuard = 0, PhiG = 2e-3,
        });
        using var gen = new Generator(7);
        var probe = randn(new long[] { 2, 5, D }, generator: gen);
        long step = 0;

        foreach (var (op, arg) in ops)
        {
            using var opScope = NewDisposeScope();
            var before = Snapshot(layer, opt);
            int h = layer.HeadCount;
            var outBefore = layer.forward(probe);
            int[]? kept = null;     // head positions (in the old order) that must survive bit-identically
            switch (op)
            {
                case Op.Train:
                    opt.zero_grad();
                    model.forward(randint(3, 20, new long[] { 3, 6 }, generator: gen)).square().mean().backward();
                    opt.step();
                    break;
                case Op.SaveLoad:
                    CheckRoundTrip(model, opt, controller);
                    break;
                case Op.GrowRandom or Op.GrowPreserving or Op.GrowSeeded when h < layer.Options.MaxHeads:
                    var u = Enumerable.Range(0, D).Select(i => Math.Sin(arg + i)).ToArray();
                    var init = op switch
                    {
                        Op.GrowRandom => HeadInit.Random,
                        Op.GrowPreserving => HeadInit.FunctionPreserving,
                        _ => HeadInit.EigenSeeded(u),
                    };
                    HeadSurgery.AddHead(layer, opt, init);
                    kept = Enumerable.Range(0, h).ToArray();
                    if (op == Op.GrowPreserving)
                        (layer.forward(probe) - outBefore).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f);
                    break;
                case Op.Prune when h > 1:
                    int victim = arg % h;
                    HeadSurgery.RemoveHeads(layer, opt, new[] { victim });
                    kept = Enumerable.Range(0, h).Where(i => i != victim).ToArray();
                    break;
                case Op.Control:
                    layer.forward(randn(new long[] { 2, 6, D }, generator: gen) * (0.01 + arg / 100.0));
                    var events = controller.Step(step++);
                    var change = events.FirstOrDefault(e => e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned);
                    if (change?.Kind == HeadEventKind.Grew) kept = Enumerable.Range(0, h).ToArray();
                    if (change?.Kind == HeadEventKind.Pruned) kept = Enumerable.Range(0, h).Where(i => i != change.HeadIndex).ToArray();
                    if (change is null) kept = Enumerable.Range(0, h).ToArray();
                    break;
            }
            CheckInvariants(layer, opt, controller, probe);
            if (kept is not null && op is not (Op.Train or Op.SaveLoad)) CheckKept(before, Snapshot(layer, opt), kept);
        }
    }

    private static void CheckRoundTrip(IncrtClassifier model, optim.Optimizer opt, HeadController controller)
    {
        var path = Path.Combine(Path.GetTempPath(), $"incrt-prop-{Guid.NewGuid():N}.incrt");
        try
        {
            IncrtCheckpoint.Save(path, model, opt, controller);
            var loaded = IncrtCheckpoint.Load(path);
            using var copy = loaded.Model;
            copy.GrowableLayers[0].HeadIds.Should().Equal(model.GrowableLayers[0].HeadIds);
            var original = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in copy.named_parameters())
                p.Same(original[name]).Should().BeTrue($"{name} survives save + load");
            var opt2 = optim.AdamW(copy.parameters().ToArray(), lr: 1e-2);
            loaded.RestoreOptimizer(opt2);
            using var controller2 = loaded.CreateController(opt2);
            controller2.Basis(0).Matrix.Same(controller.Basis(0).Matrix).Should().BeTrue("Q survives save + load");
            var slots = HeadSurgery.CollectSlots(model.GrowableLayers[0], opt).Select(s => s.Get()).Where(t => t is not null).ToList();
            var slots2 = HeadSurgery.CollectSlots(copy.GrowableLayers[0], opt2).Select(s => s.Get()).Where(t => t is not null).ToList();
            slots2.Zip(slots).Should().OnlyContain(p => p.First!.Same(p.Second!), "optimizer moments survive save + load");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<Tensor> Snapshot(GrowableMultiHeadAttention layer, optim.Optimizer opt) =>
        layer.PerHeadParameters.Select(p => p.detach().clone())
            .Concat(HeadSurgery.CollectSlots(layer, opt).Select(s => s.Get()).Where(t => t is not null).Select(t => t!.clone()))
            .ToList();

    private static void CheckKept(List<Tensor> before, List<Tensor> after, int[] kept)
    {
        after.Should().HaveCount(before.Count);
        using var keep = tensor(kept.Select(i => (long)i).ToArray());
        for (int i = 0; i < before.Count; i++)
            after[i].narrow(0, 0, kept.Length).Same(before[i].index_select(0, keep))
                .Should().BeTrue("kept heads' parameters and moments are bit-identical");
    }

    private static void CheckInvariants(GrowableMultiHeadAttention layer, optim.Optimizer opt, HeadController controller, Tensor probe)
    {
        int h = layer.HeadCount;
        layer.HeadIds.Should().HaveCount(h).And.OnlyHaveUniqueItems();
        layer.PerHeadParameters.Should().OnlyContain(p => p.shape[0] == h);
        var slots = HeadSurgery.CollectSlots(layer, opt).Select(s => s.Get()).Where(t => t is not null).ToList();
        slots.Should().OnlyContain(t => t!.shape[0] == h, "optimizer state follows the head count");
        var q = controller.Basis(0).Matrix;
        q.shape[1].Should().BeLessThan(h == 0 ? 1 : h + 1);
        if (q.shape[1] > 0)
            (q.t().matmul(q) - eye(q.shape[1], dtype: q.dtype)).abs().max().item<double>().Should().BeLessThan(1e-8, "Q is orthonormal");
        layer.forward(probe).isfinite().all().item<bool>().Should().BeTrue();
    }
}
