using FluentAssertions;
using Incrt.Control;
using Incrt.Models;
using Incrt.Samples.Common;
using Incrt.Tasks.Data;
using Incrt.Training;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Samples;

/// <summary>The sample apps' one training harness (<see cref="SampleTraining"/>) on a small planted task.</summary>
public class SampleTrainingTests
{
    private const int Seed = 4;

    private static (IncrtClassifier Model, TrainingRunSettings Settings) Setup(ControllerOptions? controller)
    {
        var task = new SyntheticDirectedTask(new SyntheticTaskOptions { Relations = 2, VocabularySize = 40, SequenceLength = 16, Seed = 5 });
        var train = task.Generate(480, 1);
        var dev = task.Generate(96, 2);
        manual_seed(Seed);
        var model = new IncrtClassifier(new IncrtModelOptions(40, 32, DModel: 16, HeadDim: 4, MaxHeads: 8, Dropout: 0.1, Seed: Seed));
        var settings = new TrainingRunSettings
        {
            Name = "test",
            Trainer = new TrainerOptions { Epochs = 2, WarmupSteps = 5, ProgressEvery = 10, EvaluationsPerEpoch = 1 },
            Controller = controller,
            Train = new LengthBucketBatcher(train.Sequences, train.Labels, 32, Seed),
            Validation = new LengthBucketBatcher(dev.Sequences, dev.CleanLabels, 48, Seed),
            Test = new LengthBucketBatcher(dev.Sequences, dev.CleanLabels, 48, Seed),
            SeedAfterPrediction = Seed,
        };
        return (model, settings);
    }

    [Fact]
    public void Controlled_run_predicts_collects_the_controllers_events_and_hands_back_the_live_controller()
    {
        var (model, settings) = Setup(new ControllerOptions { MaxDwellCalls = 2 });
        using var _ = model;
        var seen = new List<TrainedRun>();
        bool controllerAlive = false;

        var r = SampleTraining.Run(model, settings, t => { seen.Add(t); controllerAlive = t.Controller!.Calls > 0; });

        seen.Should().ContainSingle().Which.Result.Should().BeSameAs(r);
        controllerAlive.Should().BeTrue("the callback runs before the controller is disposed");
        r.Steps.Should().Be(SampleTraining.TotalSteps(settings.Train, 2));
        r.Validation.Should().HaveCount(2, "one evaluation per epoch");
        r.Test.Should().NotBeNull();
        r.Test!.Count.Should().Be(96);
        r.Prediction.Should().NotBeNull("a controlled run predicts its head count before training");
        r.PredictionError.Should().BeNull();
        r.Trace.Should().NotBeNull();
        r.Grown.Should().Be(r.Trace!.Rows.Count(x => x.Decision == "grew"), "every growth the trace records is an event");
        r.Heads.Should().Equal(model.GrowableLayers.Select(l => l.HeadCount));
        r.Controller.Should().BeSameAs(settings.Controller);
        r.ControllerSeconds.Should().BePositive().And.BeLessThan(r.TrainSeconds, "the controller's calls are part of training");
        r.ProbeForwards.Should().Be(0, "the energy rule needs no loss probe");
    }

    [Fact]
    public void Fixed_head_run_has_no_controller_prediction_or_trace()
    {
        var (model, settings) = Setup(null);
        using var _ = model;
        HeadController? controller = null;
        int calls = 0;

        var r = SampleTraining.Run(model, settings, t => { calls++; controller = t.Controller; });

        calls.Should().Be(1);
        controller.Should().BeNull();
        r.Prediction.Should().BeNull();
        r.Trace.Should().BeNull();
        r.Converged.Should().BeNull();
        r.Events.Should().BeEmpty();
        r.ControllerSeconds.Should().BeNull();
        r.ProbeForwards.Should().BeNull();
        r.Heads.Should().Equal([1]);
        r.Test.Should().NotBeNull();
    }

    [Fact]
    public void The_same_settings_and_seed_give_the_same_run()
    {
        TrainingRunResult RunOnce()
        {
            var (model, settings) = Setup(new ControllerOptions { MaxDwellCalls = 2 });
            using var _ = model;
            return SampleTraining.Run(model, settings);
        }

        var a = RunOnce();
        var b = RunOnce();

        b.Validation.Select(e => e.Loss).Should().Equal(a.Validation.Select(e => e.Loss), "model, batches and dropout draws all follow the seed");
        b.Heads.Should().Equal(a.Heads);
        b.Trace!.Rows.Select(x => (x.Step, x.Heads, x.LambdaMax)).Should().Equal(a.Trace!.Rows.Select(x => (x.Step, x.Heads, x.LambdaMax)));
    }
}
