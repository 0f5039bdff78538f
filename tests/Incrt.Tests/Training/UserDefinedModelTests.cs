using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Tests.Data;
using Incrt.Training;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Training;

public class UserDefinedModelTests
{
    /// <summary>Energy settings that grow within a few steps (an absolute θ_w far below the layer's energy).</summary>
    private static readonly ControllerOptions GrowFast = new()
    {
        Interval = 1, CalibrationCalls = 3, MaxDwellCalls = 2, ThetaW = 1e-3,
        Estimator = new EstimatorOptions { EtaPlus = 0.5, Iterations = 8 },
    };

    /// <summary>Batch <paramref name="i"/> of a toy task: is token 1 larger than token 2?</summary>
    private static SequenceBatch Batch(int i)
    {
        using var g = new Generator(100 + (ulong)i);
        var ids = randint(1, 32, new long[] { 16, 12 }, generator: g, dtype: ScalarType.Int64);
        return new SequenceBatch(ids, ids.select(1, 1).gt(ids.select(1, 2)).to(ScalarType.Int64));
    }

    [Fact]
    public void Trainer_grows_a_user_defined_model_and_its_checkpoint_restores_into_a_fresh_instance()
    {
        manual_seed(1);
        using var dir = new TempDirectory();
        using var model = new TinyTagger();
        var trainer = new Trainer(model, b => model.forward(b.Ids), new TrainerOptions { LearningRate = 1e-2, WarmupSteps = 0 });
        using var controller = new HeadController(model.GrowableLayers, trainer.Optimizer, GrowFast, model: model);
        trainer.Controller = controller;
        var steps = new List<long>();
        trainer.StepCompleted += (step, _) => steps.Add(step);

        for (int i = 0; i < 30; i++)
        {
            using var batch = Batch(i);
            double.IsFinite(trainer.TrainStep(batch, 30)).Should().BeTrue();
        }

        steps.Should().Equal(Enumerable.Range(0, 30).Select(i => (long)i), "the trainer hands the controller the step it just took");
        controller.Calls.Should().Be(30);
        model.GrowableLayers[0].HeadCount.Should().BeGreaterThan(1, "the controller grew the user's layer");

        var path = Path.Combine(dir.Path, "tagger.incrt");
        IncrtCheckpoint.Save(path, model, trainer.Optimizer, controller);
        using var fresh = new TinyTagger();
        var loaded = IncrtCheckpoint.LoadInto(path, fresh);
        fresh.GrowableLayers[0].HeadIds.Should().Equal(model.GrowableLayers[0].HeadIds);
        loaded.Module.Should().BeSameAs(fresh);
        using var probe = Batch(99);
        using (no_grad())
            fresh.forward(probe.Ids).allclose(model.forward(probe.Ids), rtol: 0, atol: 0).Should().BeTrue("the fresh model has the saved weights");
        var optimizer = optim.AdamW(fresh.parameters().ToArray(), lr: 1e-2);
        loaded.RestoreOptimizer(optimizer);
        using var resumed = loaded.CreateController(optimizer);
        resumed.Calls.Should().Be(30);
    }

    [Fact]
    public void A_user_model_checkpoint_cannot_be_rebuilt_without_the_model_nor_loaded_into_another_type()
    {
        using var dir = new TempDirectory();
        using var model = new TinyTagger();
        var path = Path.Combine(dir.Path, "tagger.incrt");
        IncrtCheckpoint.Save(path, model);

        var rebuild = () => IncrtCheckpoint.Load(path);
        rebuild.Should().Throw<CheckpointException>().Which.Problem.Should().Contain(typeof(TinyTagger).FullName).And.Contain("LoadInto");
        using var classifier = new IncrtClassifier(new IncrtModelOptions(32, 12, DModel: 16, HeadDim: 4));
        var wrongType = () => IncrtCheckpoint.LoadInto(path, classifier);
        wrongType.Should().Throw<CheckpointException>().Which.Problem.Should().Contain("model type mismatch");
        using var wider = new TinyTagger(d: 24);
        var wrongWidth = () => IncrtCheckpoint.LoadInto(path, wider);
        wrongWidth.Should().Throw<CheckpointException>().Which.Problem.Should().Contain("layer 0 is d_model 16");
        IncrtCheckpoint.LoadInto(path, new TinyTagger()).Invoking(l => l.Model).Should().Throw<InvalidOperationException>().WithMessage("*use Module*");
    }

    [Fact]
    public void Trainer_trains_a_multi_output_model_with_a_custom_loss()
    {
        manual_seed(2);
        var options = new IncrtModelOptions(20, 8, DModel: 16, HeadDim: 4, Dropout: 0, Classes: 3);
        using var model = new IncrtMultiOutputClassifier(options, outputs: 2);
        var trainer = new Trainer(model, b => model.forward(b.Ids, b.KeyPaddingMask), new TrainerOptions { WarmupSteps = 0 });
        int lossCalls = 0;
        trainer.LossFunction = (logits, labels) => { lossCalls++; return Trainer.MeanCrossEntropy(logits, labels) * 2; };
        var sequences = Enumerable.Range(0, 24).Select(i => Enumerable.Range(0, 8).Select(t => 1 + (i * 7 + t * 3) % 19).ToArray()).ToList();
        using var batch = new SequenceBatch(tensor(sequences.SelectMany(s => s.Select(v => (long)v)).ToArray(), new long[] { 24, 8 }),
            tensor(sequences.SelectMany(s => new long[] { s[0] % 3, s[1] % 3 }).ToArray(), new long[] { 24, 2 }));
        trainer.TrainStep(batch, 10).Should().BeGreaterThan(0);
        lossCalls.Should().Be(1);
        trainer.Step.Should().Be(1);
        batch.Lengths.Should().AllBeEquivalentTo(8);
    }

    [Fact]
    public void A_batch_of_your_own_names_the_tensor_whose_shape_is_wrong()
    {
        var ids = zeros(new long[] { 4, 6 }, ScalarType.Int64);
        var act = () => new SequenceBatch(ids, zeros(new long[] { 5 }, ScalarType.Int64));
        act.Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*B = 4*");
        var floats = () => new SequenceBatch(zeros(4, 6), zeros(new long[] { 4 }, ScalarType.Int64));
        floats.Should().Throw<ArgumentException>().WithParameterName("ids");
        var mask = () => new SequenceBatch(ids, zeros(new long[] { 4 }, ScalarType.Int64), zeros(new long[] { 4, 5 }, ScalarType.Bool));
        mask.Should().Throw<ArgumentException>().WithParameterName("keyPaddingMask");
        using var padded = new SequenceBatch(ids, zeros(new long[] { 4 }, ScalarType.Int64),
            tensor(new[] { false, false, true, true, true, true }).expand(4, 6).contiguous());
        padded.Lengths.Should().AllBeEquivalentTo(2);
    }
}
