using FluentAssertions;
using Incrt.Models;
using Incrt.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Training;

/// <summary>Adversarial training on the token embeddings (<see cref="TrainerOptions.AdversarialNorm"/>).</summary>
public class AdversarialTrainingTests
{
    private const double Epsilon = 0.5;
    private const double Rate = 0.1;

    private static (IncrtClassifier Model, SequenceBatch Batch) TinyProblem()
    {
        manual_seed(11);
        var model = new IncrtClassifier(new IncrtModelOptions(40, 16, DModel: 16, HeadDim: 4, Dropout: 0));
        var rng = new Random(2);
        var sequences = Enumerable.Range(0, 8).Select(_ => Enumerable.Range(0, rng.Next(3, 10)).Select(_ => rng.Next(1, 40)).ToArray()).ToArray();
        var batcher = new LengthBucketBatcher(sequences, Enumerable.Range(0, 8).Select(i => i % 2).ToArray(), batchSize: 8, seed: 1);
        return (model, batcher.Epoch(0).First());
    }

    private static int TableIndex(IncrtClassifier model) =>
        model.named_parameters().Select((np, i) => (np.name, i)).Single(t => t.name.EndsWith("tok_emb.weight", StringComparison.Ordinal)).i;

    // A constant learning rate: no warm-up, cosine floor 1.
    private static TrainerOptions Options(double epsilon) => new()
    {
        LearningRate = Rate, WarmupSteps = 0, MinLearningRateFraction = 1, ClipNorm = 0, WeightDecay = 0, AdversarialNorm = epsilon,
    };

    [Fact]
    public void A_step_descends_the_clean_loss_plus_the_loss_at_the_table_moved_along_its_gradient()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var parameters = model.parameters().ToArray();
        var table = model.Encoder.TokenEmbeddings;
        var before = parameters.Select(p => p.detach().clone()).ToArray();

        // The rule written out: g = ∇L(θ), r = ε·g_E/‖g_E‖ on the table E, G = g + ∇L(θ with E + r).
        Tensor Loss() => nn.functional.cross_entropy(model.forward(batch.Ids, batch.KeyPaddingMask), batch.Labels);
        Loss().backward();
        var clean = parameters.Select(p => p.grad!.clone()).ToArray();
        using (no_grad()) table.add_(table.grad!.mul(Epsilon / table.grad!.norm().item<float>()));
        foreach (var p in parameters) p.grad!.zero_();
        Loss().backward();
        using (no_grad())
        {
            table.copy_(before[TableIndex(model)]);
        }
        var expected = parameters.Select((p, i) => before[i] - Rate * (clean[i] + p.grad!)).ToArray();
        foreach (var p in parameters) p.grad!.zero_();
        parameters.Zip(clean).Max(pc => (pc.First.grad! - pc.Second).abs().max().item<float>()).Should().BeGreaterThan(0,
            "the two gradients differ, so a step without the second backward would miss the expected weights");

        var trainer = new Trainer(model, Options(Epsilon), optim.SGD(parameters, Rate));
        trainer.TrainStep(batch, totalSteps: 10);

        for (int i = 0; i < parameters.Length; i++)
            parameters[i].allclose(expected[i], rtol: 1e-4, atol: 1e-6).Should().BeTrue($"parameter {i} takes the summed step");
        (before[0] - parameters[0]).abs().max().item<float>().Should().BeGreaterThan(0, "the step moved the weights");
    }

    [Fact]
    public void The_table_is_restored_exactly_after_the_adversarial_pass()
    {
        var (model, batch) = TinyProblem();
        using var _ = model;
        using var __ = batch;
        var table = model.Encoder.TokenEmbeddings;
        using var before = table.detach().clone();
        // An optimizer that does not own the table: whatever the trainer did to it must be undone bit for bit.
        var others = model.named_parameters().Where(np => !np.name.EndsWith("tok_emb.weight", StringComparison.Ordinal)).Select(np => np.parameter).ToArray();
        var trainer = new Trainer(model, Options(Epsilon), optim.SGD(others, Rate));
        trainer.TrainStep(batch, totalSteps: 10);
        table.detach().ne(before).any().item<bool>().Should().BeFalse("the table is put back bit for bit");
        table.grad.Should().NotBeNull("the adversarial pass leaves the table's own gradient for the optimizer");
    }

    [Fact]
    public void AdversarialNorm_needs_a_model_with_an_IncrtEncoder_and_a_finite_non_negative_value()
    {
        using var linear = nn.Linear(4, 2);
        var act = () => new Trainer(linear, b => linear.call(b.Ids.to_type(ScalarType.Float32)), Options(1.0));
        act.Should().Throw<ArgumentException>().WithMessage("*AdversarialNorm*IncrtEncoder*");
        var negative = () => Options(-1).Validate();
        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*AdversarialNorm*");
        var infinite = () => Options(double.PositiveInfinity).Validate();
        infinite.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*AdversarialNorm*");
    }
}
