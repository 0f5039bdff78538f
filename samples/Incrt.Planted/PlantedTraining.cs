using System.Diagnostics;
using Incrt.Control;
using Incrt.Models;
using Incrt.Tasks.Planted;
using Incrt.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Planted;

/// <summary>What one training run ended with.</summary>
/// <param name="Accuracy">Fraction of held-out examples with every one of the K read-outs right (the task is solved for
/// an example only when all K tokens are retrieved).</param>
/// <param name="ReadoutAccuracy">Mean per-read-out accuracy on the same examples (chance = 1 / classes).</param>
/// <param name="InitialHeads">Heads at the start.</param>
/// <param name="FinalHeads">Heads at the end.</param>
/// <param name="Grew">Heads added by the controller.</param>
/// <param name="Pruned">Heads removed by the controller.</param>
/// <param name="Parameters">Trainable scalars at the end.</param>
/// <param name="HeadSteps">Steps at which the head count changed (0 first).</param>
/// <param name="HeadCounts">Head count from each of <paramref name="HeadSteps"/> on.</param>
/// <param name="Seconds">Wall time of the run.</param>
internal sealed record TrainingOutcome(double Accuracy, double ReadoutAccuracy, int InitialHeads, int FinalHeads, int Grew, int Pruned,
    long Parameters, IReadOnlyList<long> HeadSteps, IReadOnlyList<int> HeadCounts, double Seconds);

/// <summary>Trains one <see cref="IncrtMultiOutputClassifier"/> on a planted task: a fixed head count, or grown by the
/// INCRT controller from one head. Every run of a (task, seed) sees the same examples in the same order and the same
/// schedule, so the fixed-H curve and the grown model differ only in their heads.</summary>
internal static class PlantedTraining
{
    /// <summary>Trains with <paramref name="heads"/> heads; with <paramref name="controller"/> the controller grows and
    /// prunes after every step.</summary>
    public static TrainingOutcome Run(PlantedSettings s, PlantedTask task, int seed, int heads, ControllerOptions? controller, Device device)
    {
        var clock = Stopwatch.StartNew();
        var options = new IncrtModelOptions(task.VocabularySize, task.SequenceLength, DModel: s.DModel, HeadDim: s.HeadDim,
            InitialHeads: heads, MaxHeads: Math.Max(s.MaxHeads, heads), Dropout: 0, Pooling: Pooling.Cls, Classes: task.Classes, Seed: (ulong)seed,
            PreNorm: s.PreNorm);
        manual_seed(seed); // torch's global generator initialises the embeddings and read-outs
        using var model = new IncrtMultiOutputClassifier(options, task.Outputs, device);
        int total = controller is null ? s.Steps : s.IncrtStepCount;
        // The library's loop (warm-up + cosine to 10%, clipping at 1, non-finite guard, controller after each step) with
        // the planted loss: the sum over read-outs of the mean cross-entropy.
        var trainer = new Trainer(model, b => model.forward(b.Ids),   // no padding in planted tasks
            new TrainerOptions { LearningRate = s.LearningRate, WeightDecay = s.WeightDecay, WarmupSteps = s.WarmupSteps, MinLearningRateFraction = 0.1, ClipNorm = 1.0 })
        {
            LossFunction = (logits, labels) => SummedReadoutLoss(logits, labels, task),
        };
        using var optimizer = trainer.Optimizer;
        using var control = controller is null ? null : new HeadController(model.GrowableLayers, optimizer, controller, model: model);
        using var probe = control is null ? null : ProbeBatch.Create(task, s, device);
        if (control is not null) control.LossProbe = () => probe!.Loss(model, task);
        trainer.Controller = control;
        var steps = new List<long> { 0 };
        var counts = new List<int> { heads };
        int grew = 0, pruned = 0;
        if (control is not null)
            control.HeadChanged += (_, e) =>
            {
                if (e.Kind == HeadEventKind.Grew) grew++;
                else if (e.Kind == HeadEventKind.Pruned) pruned++;
                else return;
                steps.Add(e.Step);
                counts.Add(e.HeadsAfter);
            };

        for (long step = 0; step < total; step++)
        {
            var (ids, labels) = task.Generate(s.BatchSize, splitSeed: 1 + step).ToTensors(device);
            using var batch = new SequenceBatch(ids, labels);
            trainer.TrainStep(batch, total);
        }
        var (exact, readout) = Evaluate(model, task, s.DevExamples, device);
        return new TrainingOutcome(exact, readout, heads, model.GrowableLayers[0].HeadCount, grew, pruned, model.ParameterCount(),
            steps, counts, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Sum over read-outs of the mean cross-entropy: logits (B, K, classes), labels (B, K).</summary>
    internal static Tensor SummedReadoutLoss(Tensor logits, Tensor labels, PlantedTask task) => Trainer.MeanCrossEntropy(logits, labels) * task.Outputs;

    /// <summary>Exact-match rate (all K read-outs right) and mean per-read-out accuracy on <paramref name="count"/>
    /// held-out examples (split seed 0, never used for training).</summary>
    public static (double ExactMatch, double ReadoutAccuracy) Evaluate(IncrtMultiOutputClassifier model, PlantedTask task, int count, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = model.training;
        model.eval();
        var (ids, labels) = task.Generate(count, splitSeed: 0).ToTensors(device);
        var right = model.forward(ids).argmax(-1).eq(labels);                    // (N, K)
        double accuracy = right.to_type(ScalarType.Float64).mean().item<double>();
        double exact = right.all(-1).to_type(ScalarType.Float64).mean().item<double>();
        if (wasTraining) model.train();
        return (exact, accuracy);
    }
}
