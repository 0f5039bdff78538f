using FluentAssertions;
using Incrt.Persistence;
using Incrt.Tests.Attention;
using Incrt.Tests.Data;
using Incrt.Tests.Surgery;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Persistence;

/// <summary>
/// A checkpoint restores every hyper-parameter of every supported optimizer (not only the learning rate) into an
/// optimizer built with the defaults, and its state (read from TorchSharp's own state objects) after a growth.
/// </summary>
public class OptimizerResumeTests
{
    private static readonly IncrtModelOptions Small = new(VocabSize: 24, MaxLength: 8, DModel: 16, HeadDim: 4, Layers: 2,
        InitialHeads: 1, MaxHeads: 6, Dropout: 0, Classes: 3, Seed: 11);

    public enum Kind { AdamAmsgrad, AdamWAmsgrad, SgdNesterov, SgdDampened }

    /// <summary>The saved optimizer with non-default hyper-parameters, and the same kind with every default.</summary>
    private static (optim.Optimizer Custom, Func<Parameter[], optim.Optimizer> Default, string[] Varied) Make(Kind kind, Parameter[] ps) =>
        kind switch
        {
            Kind.AdamAmsgrad => (optim.Adam(ps, lr: 3e-3, beta1: 0.8, beta2: 0.95, eps: 1e-6, weight_decay: 0.01, amsgrad: true, maximize: true),
                q => optim.Adam(q), new[] { "lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize" }),
            Kind.AdamWAmsgrad => (optim.AdamW(ps, lr: 3e-3, beta1: 0.7, beta2: 0.9, eps: 1e-5, weight_decay: 0.05, amsgrad: true, maximize: true),
                q => optim.AdamW(q), new[] { "lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize" }),
            Kind.SgdNesterov => (optim.SGD(ps, 0.02, momentum: 0.7, weight_decay: 1e-3, nesterov: true, maximize: true),
                q => optim.SGD(q, 0.5), new[] { "lr", "momentum", "weight_decay", "nesterov", "maximize" }),
            _ => (optim.SGD(ps, 0.03, momentum: 0.6, dampening: 0.2, weight_decay: 2e-3),
                q => optim.SGD(q, 0.5), new[] { "lr", "momentum", "dampening", "weight_decay" }),
        };

    private static Dictionary<string, object?> Hyper(optim.Optimizer o) => ((OptimizerHelper)o).state_dict().Options.Single() switch
    {
        Adam.Options a => new()
        {
            ["lr"] = a.LearningRate, ["beta1"] = a.beta1, ["beta2"] = a.beta2, ["eps"] = a.eps, ["weight_decay"] = a.weight_decay,
            ["amsgrad"] = a.amsgrad, ["maximize"] = a.maximize,
        },
        AdamW.Options a => new()
        {
            ["lr"] = a.LearningRate, ["beta1"] = a.beta1, ["beta2"] = a.beta2, ["eps"] = a.eps, ["weight_decay"] = a.weight_decay,
            ["amsgrad"] = a.amsgrad, ["maximize"] = a.maximize,
        },
        SGD.Options s => new()
        {
            ["lr"] = s.LearningRate, ["momentum"] = s.momentum, ["dampening"] = s.dampening, ["weight_decay"] = s.weight_decay,
            ["nesterov"] = s.nesterov, ["maximize"] = s.maximize,
        },
        var other => throw new NotSupportedException(other.GetType().FullName),
    };

    private static void TrainStep(IncrtClassifier model, optim.Optimizer opt, int step)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(500 + (ulong)step);
        var ids = randint(1, Small.VocabSize, new long[] { 6, 8 }, generator: g, dtype: ScalarType.Int64);
        var labels = ids.select(1, 1).remainder(Small.Classes);
        opt.zero_grad();
        nn.functional.cross_entropy(model.forward(ids), labels).backward();
        opt.step();
    }

    [Theory]
    [InlineData(Kind.AdamAmsgrad)]
    [InlineData(Kind.AdamWAmsgrad)]
    [InlineData(Kind.SgdNesterov)]
    [InlineData(Kind.SgdDampened)]
    public void Resume_restores_every_hyper_parameter_and_the_grown_state_of_the_optimizer(Kind kind)
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var path = Path.Combine(dir.Path, "opt.incrt");
        using var model = new IncrtClassifier(Small);
        var (opt, makeDefault, varied) = Make(kind, model.parameters().ToArray());
        TrainStep(model, opt, 0);
        HeadSurgery.AddHead(model.GrowableLayers[0], opt, HeadInit.Random);
        TrainStep(model, opt, 1);
        TrainStep(model, opt, 2);
        IncrtCheckpoint.Save(path, model, opt);

        var loaded = IncrtCheckpoint.Load(path);
        using var copy = loaded.Model;
        var restored = makeDefault(copy.parameters().ToArray());
        var saved = Hyper(opt);
        var defaults = Hyper(restored);
        varied.Where(k => Equals(defaults[k], saved[k])).Should().BeEmpty("the test only proves a restore where the values differ");
        loaded.RestoreOptimizer(restored);

        Hyper(restored).Should().Equal(saved);
        var stateSaved = OptimizerStateOracle.ReadAll(opt, model);
        var stateRestored = OptimizerStateOracle.ReadAll(restored, copy);
        OptimizerStateOracle.Read(opt, model.GrowableLayers[0].PerHeadParameters[0]).Tensors.Values
            .Should().NotBeEmpty().And.OnlyContain(t => t.shape[0] == 2, "the grown layer's state is part of the comparison");
        foreach (var (name, st) in stateSaved)
        {
            stateRestored[name].Step.Should().Be(st.Step, name);
            stateRestored[name].Tensors.Keys.Should().BeEquivalentTo(st.Tensors.Keys, name);
            foreach (var (slot, t) in st.Tensors) stateRestored[name].Tensors[slot].Same(t).Should().BeTrue($"{name}.{slot}");
        }

        TrainStep(model, opt, 3);
        TrainStep(copy, restored, 3);
        var original = AttentionTestHelpers.Params(model);
        foreach (var (name, p) in copy.named_parameters())
            p.Same(original[name]).Should().BeTrue($"{name} after one more step on both");
    }
}
