using FluentAssertions;
using Incrt.Control;
using Incrt.Models;
using Incrt.Tasks.Data;
using Incrt.Training;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

public class ControllerEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public void A_model_grown_from_one_head_reaches_a_sufficient_configuration_that_stops_changing()
    {
        manual_seed(3);
        var taskOptions = new SyntheticTaskOptions { Relations = 2, VocabularySize = 40, SequenceLength = 16, Seed = 5 };
        var task = new SyntheticDirectedTask(taskOptions);
        var train = task.Generate(1600, 1);
        var dev = task.Generate(400, 2);
        using var model = new IncrtClassifier(new IncrtModelOptions(taskOptions.VocabularySize, 32, DModel: 32, HeadDim: 8,
            MaxHeads: 24, Dropout: 0.0, Seed: 1));
        var trainer = new Trainer(model, new TrainerOptions { Epochs = 12, WarmupSteps = 50, ProgressEvery = 100 });
        using var controller = new HeadController(model.GrowableLayers, trainer.Optimizer, new ControllerOptions(), model: model);
        trainer.Controller = controller;
        var events = new List<HeadEvent>();
        controller.HeadChanged += (_, e) => events.Add(e);

        var evals = trainer.Fit(new LengthBucketBatcher(train.Sequences, train.Labels, 32, 1),
            new LengthBucketBatcher(dev.Sequences, dev.Labels, 100, 1));

        var last = controller.LastReading(0)!;
        double ratio = last.LambdaMax / controller.Thresholds(0)!.ThetaW;
        long lastChangeCall = events.Where(e => e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned).Select(e => e.Call).DefaultIfEmpty(0).Max();
        output.WriteLine($"heads {controller.HeadCounts[0]}, grew {events.Count(e => e.Kind == HeadEventKind.Grew)}, " +
            $"pruned {events.Count(e => e.Kind == HeadEventKind.Pruned)}, last change at call {lastChangeCall} of {controller.Calls}, " +
            $"λmax/θ_w {ratio:F3}, dev accuracy {evals[^1].Accuracy:F3}");

        controller.HeadCounts[0].Should().BeGreaterThan(1, "the planted structure needs more than the initial head");
        controller.HeadCounts[0].Should().BeLessThan(24, "growth must stop before the cap");
        controller.IsConverged.Should().BeTrue();
        ratio.Should().BeLessThanOrEqualTo(1.0, "the final heads are sufficient");
        (controller.Calls - lastChangeCall).Should().BeGreaterThanOrEqualTo(controller.Calls / 4, "the architecture has stopped changing");
        evals[^1].Accuracy.Should().BeGreaterThan(0.65, "the model learns the order-only task well above chance (0.5)");
    }
}
