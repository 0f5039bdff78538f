using FluentAssertions;
using Incrt.Tests.Attention;
using Incrt.Training;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Reliability;

/// <summary>Bad inputs not covered next to their component's tests; tests/BAD_INPUTS.md lists the whole catalogue.</summary>
public class BadInputCatalogTests
{
    private static IncrtClassifier Model() => new(new IncrtModelOptions(VocabSize: 20, MaxLength: 8, DModel: 8, HeadDim: 4, Dropout: 0));

    [Fact]
    public void Sequence_longer_than_the_position_table_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var act = () => model.forward(ones(2, 9, dtype: ScalarType.Int64));
        act.Should().Throw<ArgumentException>().WithMessage("*MaxLength = 8*").Which.ParamName.Should().Be("ids");
    }

    [Fact]
    public void Float_token_ids_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var act = () => model.forward(ones(2, 4));
        act.Should().Throw<ArgumentException>().WithMessage("*int64*").Which.ParamName.Should().Be("ids");
    }

    [Theory]
    [InlineData(1, 8, 2, "VocabSize")]
    [InlineData(20, 0, 2, "MaxLength")]
    [InlineData(20, 8, 1, "Classes")]
    public void Invalid_model_options_are_rejected_naming_the_field(long vocab, long maxLength, int classes, string field)
    {
        var act = () => new IncrtClassifier(new IncrtModelOptions(vocab, maxLength, DModel: 8, HeadDim: 4, Classes: classes));
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(field);
    }

    [Theory]
    [InlineData(double.NaN, 0.01, "LearningRate")]
    [InlineData(-1e-3, 0.01, "LearningRate")]
    [InlineData(1e-3, -0.5, "WeightDecay")]
    [InlineData(1e-3, double.NaN, "WeightDecay")]
    public void Invalid_trainer_settings_are_rejected_naming_them(double lr, double weightDecay, string setting)
    {
        using var model = Model();
        var act = () => new Trainer(model, new TrainerOptions { LearningRate = lr, WeightDecay = weightDecay });
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(setting);
    }

    private static (Trainer Trainer, IncrtClassifier Model, SequenceBatch Batch) OneBatch()
    {
        var model = Model();
        var trainer = new Trainer(model, new TrainerOptions { WarmupSteps = 0 });
        var batcher = new LengthBucketBatcher(new[] { new[] { 2, 5, 6 }, new[] { 2, 7 } }, new[] { 0, 1 }, 2, seed: 1);
        return (trainer, model, batcher.MakeBatch(new[] { 0, 1 }));
    }

    [Fact]
    public void A_non_finite_loss_is_skipped_and_leaves_weights_unchanged()
    {
        using var scope = NewDisposeScope();
        var (trainer, model, batch) = OneBatch();
        trainer.TrainStep(batch, 10).Should().BeGreaterThan(0);
        // +Inf in the position table makes the embedding LayerNorm, the loss and the gradients non-finite.
        var pos = AttentionTestHelpers.Params(model)["encoder.pos_emb.weight"];
        using (no_grad()) pos[0, 0] = tensor(float.PositiveInfinity);
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();

        double loss = trainer.TrainStep(batch, 10);

        double.IsFinite(loss).Should().BeFalse();
        trainer.SkippedSteps.Should().Be(1);
        // Same compares element-wise: +Inf equals +Inf, so the poisoned table is compared too (nothing is exempt).
        model.parameters().Zip(before).Should().OnlyContain(p => p.First.detach().Same(p.Second), "no weight moved");
    }

    [Fact]
    public void Training_with_clipping_disabled_takes_finite_steps()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var trainer = new Trainer(model, new TrainerOptions { WarmupSteps = 0, ClipNorm = 0 });
        var batcher = new LengthBucketBatcher(new[] { new[] { 2, 5, 6 }, new[] { 2, 7 } }, new[] { 0, 1 }, 2, seed: 1);
        using var batch = batcher.MakeBatch(new[] { 0, 1 });
        double.IsFinite(trainer.TrainStep(batch, 10)).Should().BeTrue();
        trainer.SkippedSteps.Should().Be(0);
    }

    [Fact]
    public void Controller_calls_after_dispose_throw_ObjectDisposedException()
    {
        using var model = Model();
        var controller = new HeadController(model.GrowableLayers, null);
        controller.Dispose();
        controller.Invoking(c => c.Step(0)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Controller_rejects_a_step_that_does_not_increase()
    {
        using var model = Model();
        using var controller = new HeadController(model.GrowableLayers, null);
        controller.Step(3);
        controller.Invoking(c => c.Step(3)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("step");
        controller.Invoking(c => c.Step(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("step");
    }

    [Fact]
    public void Controller_rejects_an_empty_or_duplicated_layer_list()
    {
        using var model = Model();
        var layer = model.GrowableLayers[0];
        FluentActions.Invoking(() => new HeadController(Array.Empty<GrowableMultiHeadAttention>(), null))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("layers");
        FluentActions.Invoking(() => new HeadController(new[] { layer, layer }, null))
            .Should().Throw<ArgumentException>().WithMessage("*twice*");
    }

    [Fact]
    public void Surgery_with_an_optimizer_whose_state_it_cannot_resize_is_refused_before_any_change()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var layer = model.GrowableLayers[0];
        var rms = optim.RMSProp(model.parameters().ToArray());
        FluentActions.Invoking(() => HeadSurgery.AddHead(layer, rms, HeadInit.Random))
            .Should().Throw<NotSupportedException>().WithMessage("*RegisterAdapter*");
        layer.HeadCount.Should().Be(1);
    }
}
