using System.Diagnostics;
using System.Globalization;
using Incrt.Control;
using Incrt.Models;
using Incrt.Theory;
using Incrt.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Incrt.Samples.Common;

/// <summary>Settings of one <see cref="SampleTraining.Run"/>: what to train on, how, and where the progress goes.</summary>
public sealed record TrainingRunSettings
{
    /// <summary>Name of the run in progress lines and on the progress bar (e.g. <c>INCRT</c>, <c>fixed H=2</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Training loop settings (epochs, learning rate, warm-up, progress and evaluation cadence).</summary>
    public required TrainerOptions Trainer { get; init; }

    /// <summary>Controller settings (e.g. from <see cref="ControllerChoice.Build"/>), or null for a fixed-head run.</summary>
    public ControllerOptions? Controller { get; init; }

    /// <summary>Training batches.</summary>
    public required LengthBucketBatcher Train { get; init; }

    /// <summary>Validation batches evaluated during training (<see cref="TrainerOptions.EvaluationsPerEpoch"/>); none when null.</summary>
    public LengthBucketBatcher? Validation { get; init; }

    /// <summary>Test batches evaluated once after training; none when null.</summary>
    public LengthBucketBatcher? Test { get; init; }

    /// <summary>Torch seed set again after the head-count prediction, or null to leave the generator as it is (the
    /// prediction draws nothing; re-seeding only makes the training stream start from the seed).</summary>
    public int? SeedAfterPrediction { get; init; }

    /// <summary>Receives the controller's decisions (category <see cref="SampleTraining.ControllerLogCategory"/>); none when null.</summary>
    public ILoggerFactory? Logging { get; init; }

    /// <summary>Where progress, evaluation and prediction lines go; none when null.</summary>
    public IProgressSink? Progress { get; init; }
}

/// <summary>What one <see cref="SampleTraining.Run"/> measured.</summary>
/// <param name="Name">The run's name.</param>
/// <param name="Validation">Every validation evaluation, in order.</param>
/// <param name="Test">The test evaluation after training, or null without test batches.</param>
/// <param name="Heads">Final head count per layer.</param>
/// <param name="Parameters">Final trainable parameter count.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="TrainSeconds">Wall time of training (validation evaluations included).</param>
/// <param name="TrainCpuSeconds">Process CPU time over the same span.</param>
/// <param name="Controller">The controller options that ran, or null for a fixed-head run.</param>
/// <param name="Events">Controller decisions (empty without a controller).</param>
/// <param name="Trace">Controller trace, or null without a controller.</param>
/// <param name="Converged">Controller homeostasis at the end, or null without a controller.</param>
/// <param name="Prediction">Layer 0's head count predicted before training (<see cref="SamplePrediction"/>), or null
/// without a controller or when the prediction failed.</param>
/// <param name="PredictionError">Why <paramref name="Prediction"/> is null although a controller ran, else null.</param>
/// <param name="PredictionAfterCalibration">The same prediction when layer 0's calibration ended, or null.</param>
/// <param name="ControllerSeconds">Wall seconds spent in the controller's calls (rules, probes, surgery;
/// <see cref="HeadController.StepSeconds"/>), or null without a controller.</param>
/// <param name="ProbeForwards">Loss-probe forward passes the controller ran, or null without a controller.</param>
public sealed record TrainingRunResult(
    string Name,
    IReadOnlyList<EvaluationResult> Validation,
    EvaluationResult? Test,
    IReadOnlyList<int> Heads,
    long Parameters,
    long Steps,
    double TrainSeconds,
    double TrainCpuSeconds,
    ControllerOptions? Controller,
    IReadOnlyList<HeadEvent> Events,
    ControllerTrace? Trace,
    bool? Converged,
    HeadCountPrediction? Prediction,
    string? PredictionError,
    HeadCountPrediction? PredictionAfterCalibration,
    double? ControllerSeconds = null,
    long? ProbeForwards = null)
{
    /// <summary>Heads added over the run.</summary>
    public int Grown => Events.Count(e => e.Kind == HeadEventKind.Grew);

    /// <summary>Heads removed over the run.</summary>
    public int Pruned => Events.Count(e => e.Kind == HeadEventKind.Pruned);
}

/// <summary>The trained run while its model, trainer and controller are still alive (see <see cref="SampleTraining.Run"/>).</summary>
/// <param name="Model">The trained model.</param>
/// <param name="Trainer">Its trainer (optimizer, step count).</param>
/// <param name="Controller">The controller, or null for a fixed-head run; disposed after the callback returns.</param>
/// <param name="Result">What the run measured.</param>
public sealed record TrainedRun(IncrtClassifier Model, Trainer Trainer, HeadController? Controller, TrainingRunResult Result);

/// <summary>
/// The one training harness of the sample apps: the head-count prediction before training and after calibration, the
/// controller, progress and logging hookup, head events, timing (wall and process CPU) and the final evaluations around
/// <see cref="Trainer.Fit"/>. Settings in, <see cref="TrainingRunResult"/> out; the apps add options and reports.
/// </summary>
public static class SampleTraining
{
    /// <summary>Logger category of the controller's decisions.</summary>
    public const string ControllerLogCategory = "Incrt.Controller";

    /// <summary>Optimizer steps of <paramref name="epochs"/> passes over <paramref name="train"/>.</summary>
    public static long TotalSteps(LengthBucketBatcher train, int epochs)
    {
        ArgumentNullException.ThrowIfNull(train);
        return (long)train.BatchesPerEpoch * epochs;
    }

    /// <summary>Trains <paramref name="model"/> (built and seeded by the caller, who keeps owning it).</summary>
    /// <param name="model">The classifier to train; with a controller it starts from its current head counts.</param>
    /// <param name="settings">What to train on and how.</param>
    /// <param name="onTrained">Called once after the evaluations with the live model, trainer and controller: the place
    /// to save a checkpoint or read the controller's state.</param>
    public static TrainingRunResult Run(IncrtClassifier model, TrainingRunSettings settings, Action<TrainedRun>? onTrained = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var inv = CultureInfo.InvariantCulture;
        var progress = settings.Progress;
        string tag = $"[{settings.Name}]";
        int epochs = settings.Trainer.Epochs;
        var controllerOptions = settings.Controller;

        // Theorem 2: predicted before any training step, from the first calibration batches and the initial model,
        // with the predictor's frozen constants (docs/theory.md §7).
        HeadCountPrediction? prediction = null;
        string? predictionError = null;
        if (controllerOptions is not null)
        {
            try { prediction = SamplePrediction.Predict(model, settings.Train, epochs, controllerOptions); }
            catch (ArgumentException e) { predictionError = e.Message; }
            progress?.WriteLine(prediction is { } p
                ? string.Create(inv,
                    $"{tag} predicted heads (layer 0, before training): {p.PredictedHeads} (κ_T² {p.KappaSquared:F2} [{p.Measure}], ln(Γ0/θw) {p.LogRatio:F2}, c {p.Constant}); " +
                    $"growth replay {p.ReplayHeads} ({p.ReplayDecisions} decision calls, stopped by {p.ReplayStoppedBy}; calibration batches only {p.ReplayCalibrationHeads}, static A(0) {p.StaticReplayHeads})")
                : $"{tag} head-count prediction failed: {predictionError}");
            if (settings.SeedAfterPrediction is int seed) manual_seed(seed);
        }

        var trainer = new Trainer(model, settings.Trainer);
        using var controller = controllerOptions is null ? null
            : new HeadController(model.GrowableLayers, trainer.Optimizer, controllerOptions, settings.Logging?.CreateLogger(ControllerLogCategory), model);
        var events = new List<HeadEvent>();
        HeadCountPrediction? afterCalibration = null;
        if (controller is not null)
        {
            controller.HeadChanged += (_, e) => events.Add(e);
            // The same replay once calibration ends (one-head model after CalibrationCalls·Interval steps, before any
            // growth decision) over the remaining decision calls: the operator has left its random start.
            SamplePrediction.OnCalibrated(trainer, e =>
            {
                try
                {
                    afterCalibration = SamplePrediction.Predict(model, settings.Train, epochs, controllerOptions!);
                    progress?.WriteLine(string.Create(inv,
                        $"{tag} growth replay after calibration (step {e.Step}, layer 0): {afterCalibration.ReplayHeads} heads ({afterCalibration.ReplayDecisions} decision calls, stopped by {afterCalibration.ReplayStoppedBy})"));
                }
                catch (ArgumentException ex) { progress?.WriteLine($"{tag} growth replay after calibration failed: {ex.Message}"); }
            });
            trainer.Controller = controller;
        }

        var clock = Stopwatch.StartNew();
        double cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        if (progress is not null)
        {
            trainer.Progress += p =>
            {
                double eta = p.StepsPerSecond > 0 ? (p.TotalSteps - p.Step) / p.StepsPerSecond : double.NaN;
                progress.Report(p, string.Create(inv,
                    $"{tag} epoch {p.Epoch} step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:E2} {p.StepsPerSecond:F2} steps/s " +
                    $"heads [{string.Join(",", p.Heads)}] λmax/θw [{string.Join(",", p.LambdaMaxOverTheta.Select(r => double.IsNaN(r) ? "-" : r.ToString("F2", inv)))}] eta {FormatSeconds(eta)}"));
            };
            trainer.Evaluated += e =>
            {
                var heads = model.GrowableLayers.Select(l => l.HeadCount).ToList();
                progress.Evaluated(e, heads, string.Create(inv,
                    $"{tag} validation step {e.Step}: accuracy {e.Accuracy:F4} loss {e.Loss:F4} heads [{string.Join(",", heads)}] {clock.Elapsed.TotalSeconds:F0} s"));
            };
        }
        var evals = progress is null
            ? trainer.Fit(settings.Train, settings.Validation)
            : progress.Track(settings.Name, TotalSteps(settings.Train, epochs), epochs, () => trainer.Fit(settings.Train, settings.Validation));
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu0;
        var test = settings.Test is null ? null : trainer.Evaluate(settings.Test);

        var result = new TrainingRunResult(settings.Name, evals, test, model.GrowableLayers.Select(l => l.HeadCount).ToList(),
            model.ParameterCount(), trainer.Step, seconds, cpuSeconds, controllerOptions, events, controller?.Trace, controller?.IsConverged,
            prediction, predictionError, afterCalibration, controller?.StepSeconds, controller?.ProbeForwards);
        if (controller is not null)
            progress?.WriteLine(string.Create(inv,
                $"{tag} controller: {controller.StepSeconds:F1} s of {seconds:F0} s training ({controller.StepSeconds / Math.Max(seconds, 1e-9):P1}), {controller.ProbeForwards} probe forwards ({controller.ProbeSeconds:F1} s)"));
        onTrained?.Invoke(new TrainedRun(model, trainer, controller, result));
        return result;
    }

    /// <summary>Seconds as <c>12s</c> or <c>3m05s</c>; <c>?</c> when not finite.</summary>
    public static string FormatSeconds(double seconds) =>
        !double.IsFinite(seconds) ? "?" : seconds >= 60 ? $"{(int)(seconds / 60)}m{(int)(seconds % 60):00}s" : $"{seconds:F0}s";
}
